/**
 * deploy/install.sh into a temporary DESTDIR: the expected layout (program with production
 * dependencies only, wrapper, unit, config), a program that runs from there, a unit that passes
 * `systemd-analyze verify` in that root, a config that a re-install keeps, PREFIX honoured, and
 * the real system untouched. Uses NODE_MODULES=copy (offline, from this checkout's node_modules);
 * the default `npm ci --omit=dev` needs the registry and is exercised by hand (README of deploy).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cp, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { CLI, DEPLOY, ROOT, available, exists } from './helpers.js';

const SCRIPT = join(DEPLOY, 'install.sh');
/** Paths of the real system that install.sh writes when DESTDIR is empty. */
const REAL_PATHS = [
  '/usr/local/lib/stackd',
  '/usr/local/bin/stackd',
  '/etc/systemd/system/stackd.service',
  '/etc/stackd/config.yaml',
  '/opt/stackd',
];

async function install(destdir: string, env: Record<string, string> = {}) {
  return execa('bash', [SCRIPT], {
    env: { DESTDIR: destdir, NODE_MODULES: 'copy', ...env },
    reject: false,
    all: true,
  });
}

async function realSystem(): Promise<string> {
  const states = await Promise.all(REAL_PATHS.map(async (p) => `${p}:${String(await exists(p))}`));
  const user = await execa('id', ['stackd'], { reject: false });
  return [...states, `user:${user.stdout}`].join('\n');
}

let dest: string;
let result: Awaited<ReturnType<typeof install>>;
let before: string;

beforeAll(async () => {
  expect(await exists(CLI)).toBe(true); // `make build` first
  before = await realSystem();
  dest = await mkdtemp(join(tmpdir(), 'stackd-install-'));
  result = await install(dest);
}, 170_000);

afterAll(async () => {
  await rm(dest, { recursive: true, force: true });
});

describe('deploy/install.sh with DESTDIR', () => {
  it('succeeds and says what it skipped', () => {
    expect(result.all).toContain('DESTDIR is set: not creating the user stackd');
    expect(result.exitCode).toBe(0);
  });

  it('lays out the program, the wrapper, the unit and the config', async () => {
    const lib = join(dest, 'usr/local/lib/stackd');
    for (const path of [
      'dist/cmd/stackd/main.js',
      'package.json',
      'package-lock.json',
      'node_modules/prom-client/package.json',
      'node_modules/dockerode/package.json',
      'node_modules/isomorphic-git/package.json',
      'deploy/INSTALL.md',
      'deploy/systemd/stackd.service',
      'deploy/grafana/stackd.json',
      'deploy/prometheus/alerts.yaml',
    ]) {
      expect([path, await exists(join(lib, path))]).toEqual([path, true]);
    }
    // Production dependencies only.
    for (const dev of ['jest', 'typescript', 'eslint', 'prettier', '@swc/core']) {
      expect([dev, await exists(join(lib, 'node_modules', dev))]).toEqual([dev, false]);
    }
    const wrapper = join(dest, 'usr/local/bin/stackd');
    expect((await stat(wrapper)).mode & 0o111).toBe(0o111);
    expect(await readFile(wrapper, 'utf8')).toMatch(
      /^#!\/bin\/sh\n[\s\S]*exec "\/[^"]+\/node" "\/usr\/local\/lib\/stackd\/dist\/cmd\/stackd\/main\.js" "\$@"\n$/,
    );
    const unit = await readFile(join(dest, 'etc/systemd/system/stackd.service'), 'utf8');
    expect(unit).toBe(await readFile(join(DEPLOY, 'systemd/stackd.service'), 'utf8'));
    const config = join(dest, 'etc/stackd/config.yaml');
    expect(await readFile(config, 'utf8')).toBe(await readFile(join(DEPLOY, 'config.example.yaml'), 'utf8'));
    expect((await stat(config)).mode & 0o777).toBe(0o640);
  });

  it('installs a program that runs with its production dependencies', async () => {
    const main = join(dest, 'usr/local/lib/stackd/dist/cmd/stackd/main.js');
    const version = await execa('node', [main, 'version']);
    expect(version.stdout).toMatch(/\d+\.\d+\.\d+/);
    const validate = await execa('node', [main, 'validate', join(DEPLOY, 'examples'), '--output', 'json'], {
      reject: false,
    });
    expect(validate.exitCode).toBe(0);
  });

  it('installs a unit that passes systemd-analyze verify inside the DESTDIR', async () => {
    expect(await available('systemd-analyze', '--version')).toBe(true);
    await cp('/usr/lib/systemd/system', join(dest, 'usr/lib/systemd/system'), {
      recursive: true,
      verbatimSymlinks: true,
    });
    const verify = await execa('systemd-analyze', ['verify', `--root=${dest}`, 'stackd.service'], {
      reject: false,
      all: true,
    });
    expect(verify.all.trim()).toBe('');
    expect(verify.exitCode).toBe(0);
  });

  it('keeps an existing config.yaml on re-install and replaces the program', async () => {
    const config = join(dest, 'etc/stackd/config.yaml');
    await writeFile(config, 'source:\n  url: https://git.example.com/mine.git\n');
    const marker = join(dest, 'usr/local/lib/stackd/dist/stale-file');
    await writeFile(marker, 'left over from an old version');
    const again = await install(dest);
    expect(again.all).toContain('keeping the existing');
    expect(again.exitCode).toBe(0);
    expect(await readFile(config, 'utf8')).toBe('source:\n  url: https://git.example.com/mine.git\n');
    expect(await exists(marker)).toBe(false);
    expect(await exists(join(dest, 'usr/local/lib/stackd/dist/cmd/stackd/main.js'))).toBe(true);
  }, 170_000);

  it('honours PREFIX in the wrapper and the unit', async () => {
    const other = await mkdtemp(join(tmpdir(), 'stackd-install-prefix-'));
    try {
      const r = await install(other, { PREFIX: '/opt/stackd' });
      expect(r.exitCode).toBe(0);
      expect(await exists(join(other, 'opt/stackd/lib/stackd/dist/cmd/stackd/main.js'))).toBe(true);
      expect(await readFile(join(other, 'opt/stackd/bin/stackd'), 'utf8')).toContain(
        '"/opt/stackd/lib/stackd/dist/cmd/stackd/main.js"',
      );
      const unit = await readFile(join(other, 'etc/systemd/system/stackd.service'), 'utf8');
      expect(unit).toContain('\nExecStart=/opt/stackd/bin/stackd run --config /etc/stackd/config.yaml\n');
      expect(unit).not.toContain('/usr/local/bin/stackd');
      expect(unit).not.toContain('/usr/local/lib/stackd');
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  }, 170_000);

  it('refuses bad settings before touching anything', async () => {
    const r = await install(join(dest, 'unused'), { NODE_MODULES: 'bogus' });
    expect(r.exitCode).not.toBe(0);
    expect(r.all).toContain('NODE_MODULES must be ci or copy');
    expect(await exists(join(dest, 'unused'))).toBe(false);
  });

  it('leaves the real system alone', async () => {
    expect(await realSystem()).toBe(before);
    expect(ROOT).not.toBe('/');
  });
});
