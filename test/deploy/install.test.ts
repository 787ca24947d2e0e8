/**
 * deploy/install.sh into a temporary DESTDIR: the expected layout (program with production
 * dependencies only, wrapper, unit, config), a program that runs from there, a unit that passes
 * `systemd-analyze verify` in that root, a config that a re-install keeps, PREFIX honoured, and
 * the real system untouched. Uses NODE_MODULES=copy (offline, from this checkout's node_modules);
 * the default `npm ci --omit=dev` needs the registry and is exercised by hand (README of deploy).
 * Without the registry (npm_config_registry on a closed port): `make install NODE_MODULES=copy`
 * on this tree (dist/ current) installs without rebuilding and leaves node_modules alone,
 * NODE_MODULES=ci stops within seconds naming the registry, and copy refuses a node_modules that
 * is not installed or older than package-lock.json.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { cp, mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
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

/** A registry nobody answers: the discard port on loopback, closed (connection refused at once). */
const NO_REGISTRY = 'http://127.0.0.1:9/';

/** This process's environment without what a make running the tests passes to its children. */
function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (
      value === undefined ||
      /^(MAKEFLAGS|MFLAGS|MAKELEVEL|MAKEOVERRIDES|DESTDIR|NODE_MODULES|npm_)/.test(key)
    ) {
      continue;
    }
    env[key] = value;
  }
  return { ...env, ...extra };
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
    const validate = await execa(
      'node',
      [main, 'validate', join(DEPLOY, 'examples'), '--output', 'json', '--no-compose'],
      {
        reject: false,
      },
    );
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

describe('installing without the npm registry', () => {
  let offline: string;

  beforeAll(async () => {
    offline = await mkdtemp(join(tmpdir(), 'stackd-install-offline-'));
  });

  afterAll(async () => {
    await rm(offline, { recursive: true, force: true });
  });

  it('make install NODE_MODULES=copy installs the current dist/ and leaves node_modules alone', async () => {
    const env = cleanEnv({ npm_config_registry: NO_REGISTRY, npm_config_offline: 'false' });
    // Nothing to rebuild here (`make check` builds first): a rebuild or an npm ci would change
    // this tree under the other tests, so the test refuses to run make rather than cause one.
    const current = await execa('make', ['-q', 'dist'], { cwd: ROOT, env, extendEnv: false, reject: false });
    expect(['make -q dist (run make dist first)', current.exitCode]).toEqual([
      'make -q dist (run make dist first)',
      0,
    ]);
    const stamp = join(ROOT, 'node_modules/.package-lock.json');
    const before = await stat(stamp);
    const dest = join(offline, 'root');
    const r = await execa('make', ['install', `DESTDIR=${dest}`, 'NODE_MODULES=copy'], {
      cwd: ROOT,
      env,
      extendEnv: false,
      reject: false,
      all: true,
    });
    expect(r.all).toContain('copying the production dependencies from node_modules');
    expect(r.all).not.toMatch(/npm ci|tsc/);
    expect(r.exitCode).toBe(0);
    // node_modules is intact: the stamp untouched, development and production packages there.
    expect((await stat(stamp)).mtimeMs).toBe(before.mtimeMs);
    for (const name of ['jest', 'typescript', 'fastify', 'execa', 'light-my-request/node_modules/cookie']) {
      expect([name, await exists(join(ROOT, 'node_modules', name, 'package.json'))]).toEqual([name, true]);
    }
    // The wrapper points at /usr/local/lib/stackd, the target host's path: run the staged copy.
    const lib = join(dest, 'usr/local/lib/stackd');
    expect(await readFile(join(dest, 'usr/local/bin/stackd'), 'utf8')).toContain(
      '"/usr/local/lib/stackd/dist/cmd/stackd/main.js"',
    );
    const version = await execa('node', [join(lib, 'dist/cmd/stackd/main.js'), 'version'], {
      env,
      extendEnv: false,
    });
    expect(version.stdout).toMatch(/^stackd \d+\.\d+\.\d+/);
    expect(await exists(join(lib, 'node_modules/light-my-request/node_modules/cookie/package.json'))).toBe(
      true,
    );
  }, 120_000);

  it('NODE_MODULES=ci stops within seconds, naming the registry and NODE_MODULES=copy', async () => {
    const dest = join(offline, 'ci');
    // An empty npm cache: the cache-only fallback cannot succeed either.
    const env = cleanEnv({ npm_config_registry: NO_REGISTRY, npm_config_cache: join(offline, 'npm-cache') });
    const started = Date.now();
    const r = await execa('bash', [SCRIPT], {
      env: { ...env, DESTDIR: dest, NODE_MODULES: 'ci' },
      extendEnv: false,
      reject: false,
      all: true,
    });
    const seconds = (Date.now() - started) / 1000;
    expect(r.exitCode).not.toBe(0);
    expect(r.all).toContain(`the npm registry ${NO_REGISTRY} does not answer (npm ping: `);
    expect(r.all).toContain(`install: error: the npm registry ${NO_REGISTRY} is unreachable`);
    expect(r.all).toContain('install with NODE_MODULES=copy');
    expect(seconds).toBeLessThan(30);
    expect(await exists(join(dest, 'usr/local/lib/stackd'))).toBe(false);
    expect(await exists(join(dest, 'usr/local/bin/stackd'))).toBe(false);
  }, 60_000);

  it('NODE_MODULES=copy refuses a node_modules that is not installed, or older than the lockfile', async () => {
    // A checkout of its own (install.sh finds its root from its path), with dist/ but no node_modules.
    const tree = join(offline, 'checkout');
    await mkdir(join(tree, 'deploy'), { recursive: true });
    await cp(join(ROOT, 'dist'), join(tree, 'dist'), { recursive: true });
    for (const f of ['package.json', 'package-lock.json']) await cp(join(ROOT, f), join(tree, f));
    for (const f of ['install.sh', 'config.example.yaml', 'systemd']) {
      await cp(join(DEPLOY, f), join(tree, 'deploy', f), { recursive: true });
    }
    const env = cleanEnv({
      npm_config_registry: NO_REGISTRY,
      DESTDIR: join(offline, 'copy'),
      NODE_MODULES: 'copy',
    });
    const run = () =>
      execa('bash', [join(tree, 'deploy/install.sh')], { env, extendEnv: false, reject: false, all: true });

    const missing = await run();
    expect(missing.exitCode).not.toBe(0);
    expect(missing.all).toContain(
      `NODE_MODULES=copy: ${tree}/node_modules is not installed (run 'npm ci' there`,
    );

    await mkdir(join(tree, 'node_modules'));
    await writeFile(join(tree, 'node_modules/.package-lock.json'), '{}\n');
    const old = new Date(Date.now() - 3_600_000);
    await utimes(join(tree, 'node_modules/.package-lock.json'), old, old);
    const stale = await run();
    expect(stale.exitCode).not.toBe(0);
    expect(stale.all).toContain(`${tree}/node_modules is older than package-lock.json`);

    await utimes(join(tree, 'node_modules/.package-lock.json'), new Date(), new Date());
    const empty = await run();
    expect(empty.exitCode).not.toBe(0);
    expect(empty.all).toContain('does not hold every production dependency');
    expect(await exists(join(offline, 'copy/usr/local/lib/stackd'))).toBe(false);
  }, 60_000);
});
