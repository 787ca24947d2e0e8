/**
 * The built CLI (`node dist/cmd/stackd/main.js`, run `make build` first): `stackd config`, usage
 * errors and exit codes, and that no secret ever reaches its output.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'dist', 'cmd', 'stackd', 'main.js');

/** Runs the built stackd with only the given STACKD_* variables (nothing from this process leaks in). */
async function stackd(args: readonly string[], env: Record<string, string> = {}) {
  const result = await execa(process.execPath, [BIN, ...args], {
    reject: false,
    extendEnv: false,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env },
    timeout: 30_000,
  });
  return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
}

let dir: string;
beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`make build\` first`);
  dir = await mkdtemp(join(tmpdir(), 'stackd-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('stackd config', () => {
  it('prints the effective configuration as JSON', async () => {
    const { exitCode, stdout, stderr } = await stackd(['config', '--output', 'json']);
    expect(stderr).toBe('');
    expect(exitCode).toBe(0);
    const shown = JSON.parse(stdout) as Record<string, Record<string, unknown>>;
    expect(shown['source']).toMatchObject({ branch: 'main', pollInterval: '1m' });
    expect(shown['reconcile']).toMatchObject({
      timeout: '3m',
      minReady: '5s',
      crashLoopLimit: 3,
      rollback: false,
      resyncInterval: '5m',
      prune: false,
    });
    expect(shown['server']).toMatchObject({ listen: '127.0.0.1:8700' });
  });

  it('prints YAML by default', async () => {
    const { exitCode, stdout } = await stackd(['config'], { STACKD_SOURCE_BRANCH: 'prod' });
    expect(exitCode).toBe(0);
    expect(stdout).toMatch(/^source:\n/);
    expect(stdout).toContain('branch: prod');
  });

  it('takes flags and a --config file, flags winning', async () => {
    const configFile = join(dir, 'stackd.yaml');
    await writeFile(configFile, 'source:\n  branch: from-file\n  path: stacks\n');
    const { exitCode, stdout } = await stackd(
      ['config', '--config', configFile, '--branch', 'from-flag', '-o', 'json'],
      { STACKD_SOURCE_BRANCH: 'from-env' },
    );
    expect(exitCode).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ source: { branch: 'from-flag', path: 'stacks' } });
  });

  it('STACKD_RECONCILE_TIMEOUT=banana exits 2 naming the key and the value', async () => {
    const { exitCode, stdout, stderr } = await stackd(['config'], { STACKD_RECONCILE_TIMEOUT: 'banana' });
    expect(exitCode).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('reconcile.timeout');
    expect(stderr).toContain('banana');
    expect(stderr).toContain('expected a duration');
  });

  it('an unreadable --config file exits 2', async () => {
    const { exitCode, stderr } = await stackd(['config', '--config', join(dir, 'missing.yaml')]);
    expect(exitCode).toBe(2);
    expect(stderr).toContain('missing.yaml');
  });

  it.each([
    ['STACKD_API_TOKEN', 's3cret-api-token-0123'],
    ['STACKD_WEBHOOK_SECRET', 's3cret-webhook-0123'],
    ['STACKD_WEBHOOK_GITLAB_TOKEN', 's3cret-gitlab-0123'],
    ['STACKD_WEBHOOK_REGISTRY_TOKEN', 's3cret-registry-0123'],
    ['STACKD_SOURCE_TOKEN', 's3cret-source-token'],
  ])('%s never reaches the output', async (name, secret) => {
    for (const output of ['json', 'text']) {
      const { exitCode, stdout, stderr } = await stackd(['config', '--output', output], { [name]: secret });
      expect(exitCode).toBe(0);
      if (output === 'json') JSON.parse(stdout);
      expect(stdout).toContain('[redacted]');
      expect(stdout + stderr).not.toContain(secret);
    }
  });

  it('STACKD_API_TOKEN=s3cret (too short): exit 2, naming the variable, never the value', async () => {
    const { exitCode, stdout, stderr } = await stackd(['config', '--output', 'json'], {
      STACKD_API_TOKEN: 's3cret',
    });
    expect(exitCode).toBe(2);
    expect(stderr).toContain('STACKD_API_TOKEN');
    expect(stderr).toContain('at least 16 characters');
    expect(stdout + stderr).not.toContain('s3cret');
  });

  it('STACKD_SOURCE_TOKEN_FILE: the file content never reaches the output', async () => {
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, 'file-s3cret-token-0123\n');
    const { exitCode, stdout } = await stackd(['config', '--output', 'json'], {
      STACKD_SOURCE_TOKEN_FILE: tokenFile,
      STACKD_API_TOKEN_FILE: tokenFile,
      STACKD_WEBHOOK_SECRET_FILE: tokenFile,
    });
    expect(exitCode).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({
      source: { auth: { token: '[redacted]' } },
      server: { token: '[redacted]' },
      webhook: { secret: '[redacted]' },
    });
    expect(stdout).not.toContain('file-s3cret-token-0123');
  });

  it('an unreadable _FILE exits 2 naming the variable', async () => {
    const { exitCode, stderr } = await stackd(['config'], { STACKD_WEBHOOK_SECRET_FILE: join(dir, 'nope') });
    expect(exitCode).toBe(2);
    expect(stderr).toContain('STACKD_WEBHOOK_SECRET_FILE');
  });

  it('credentials in the source URL never reach the output', async () => {
    for (const [how, args, env] of [
      ['env', [], { STACKD_SOURCE_URL: 'https://deploy:url-s3cret@git.example.com/r.git' }],
      ['flag', ['--source-url', 'https://deploy:url-s3cret@git.example.com/r.git'], {}],
    ] as const) {
      const { exitCode, stdout, stderr } = await stackd(['config', '--output', 'json', ...args], env);
      expect([how, exitCode]).toEqual([how, 0]);
      expect(JSON.parse(stdout)).toMatchObject({ source: { url: 'https://***@git.example.com/r.git' } });
      expect(stdout + stderr).not.toContain('url-s3cret');
    }
  });

  it('nor does a rejected URL in the error message', async () => {
    const { exitCode, stderr } = await stackd(['config'], {
      STACKD_SOURCE_URL: 'ftp://deploy:url-s3cret@h/r',
    });
    expect(exitCode).toBe(2);
    expect(stderr).toContain('source.url');
    expect(stderr).not.toContain('url-s3cret');
  });

  it('--bogus exits 2 with a clear message', async () => {
    const { exitCode, stdout, stderr } = await stackd(['config', '--bogus']);
    expect(exitCode).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/unknown option '--bogus'/i);
    expect(stderr).toContain('--help');
  });

  it('--output yaml exits 2 saying what is expected', async () => {
    const { exitCode, stderr } = await stackd(['config', '--output', 'yaml']);
    expect(exitCode).toBe(2);
    expect(stderr).toContain('expected text or json');
  });

  it('a positional argument exits 2', async () => {
    const { exitCode, stderr } = await stackd(['config', 'extra']);
    expect(exitCode).toBe(2);
    expect(stderr).toContain('extra');
  });
});

describe('stackd', () => {
  it('--help exits 0 and lists the commands', async () => {
    const { exitCode, stdout } = await stackd(['--help']);
    expect(exitCode).toBe(0);
    expect(stdout).toContain('Usage: stackd');
    expect(stdout).toMatch(/^ {2}config\s/m);
    expect(stdout).toMatch(/^ {2}version\s/m);
  });

  it('without a command prints usage on stderr and exits 2', async () => {
    const { exitCode, stderr } = await stackd([]);
    expect(exitCode).toBe(2);
    expect(stderr).toContain('Usage: stackd');
  });

  it('version prints the package.json version', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const args of [['version'], ['--version']]) {
      const { exitCode, stdout } = await stackd(args);
      expect(exitCode).toBe(0);
      expect(stdout.trim()).toBe(`stackd ${pkg.version}`);
    }
  });

  it('an unknown command exits 2 naming it', async () => {
    const { exitCode, stdout, stderr } = await stackd(['frobnicate']);
    expect(exitCode).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('unknown command "frobnicate"');
  });
});
