/**
 * The built CLI (`node dist/cmd/stackd/main.js`, `make build` first) and the real compose
 * (`docker compose` 2.26, `docker-compose` 1.29): `stackd validate` runs `compose config -q` on
 * every stack its own checks passed, so what compose would refuse at apply time fails CI too. Run
 * with the engine unreachable (`DOCKER_HOST=unix:///nonexistent`): `config -q` needs none, and a
 * `DOCKER_HOST` that does answer (a TCP listener here) is never contacted.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'dist', 'cmd', 'stackd', 'main.js');
const NO_ENGINE = 'unix:///nonexistent';

/**
 * The built stackd with only PATH, HOME and the given variables (nothing else of this process leaks
 * in; DOCKER_CONFIG unset, so the compose plugin is found where the host installed it), the engine
 * unreachable, text logs.
 */
async function stackd(args: readonly string[], env: Record<string, string> = {}) {
  const result = await execa(process.execPath, [BIN, ...args], {
    reject: false,
    extendEnv: false,
    env: {
      PATH: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin',
      HOME: process.env['HOME'] ?? '/root',
      DOCKER_HOST: NO_ENGINE,
      STACKD_LOG_FORMAT: 'text',
      ...env,
    },
    timeout: 60_000,
  });
  return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
}

interface Report {
  stacks: { id: string; project: string; error: string | null; composeError: string | null }[];
  compose?: { command: string | null; skipped: string | null };
}
const json = (stdout: string): Report => JSON.parse(stdout) as Report;
const composeErrors = (report: Report) =>
  Object.fromEntries(report.stacks.map((s) => [s.id, s.composeError]));

const SERVICE = '    image: stackd-test/busybox:1\n    command: ["sleep", "3600"]\n';
/** compose 2.26 refuses an unknown service key; stackd's parser does not judge keys. */
const UNKNOWN_KEY = `services:\n  web:\n${SERVICE}    imagee: typo\n`;
const FIXED = `services:\n  web:\n${SERVICE}`;
const V2_MESSAGE = (file: string) =>
  `docker compose config failed (exit 15): validating ${file}: services.web Additional property imagee is not allowed`;

let dir: string;
let repo: string;
const write = async (path: string, content: string) => {
  await mkdir(dirname(join(repo, path)), { recursive: true });
  await writeFile(join(repo, path), content);
};

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`make build\` first`);
  dir = await mkdtemp(join(tmpdir(), 'stackd-validate-compose-'));
  repo = join(dir, 'repo');
  await write('apps/web/compose.yaml', UNKNOWN_KEY);
  await write('db/compose.yaml', FIXED);
  // Its .env is compose's --env-file: PORT is interpolated, and compose quotes the bad value.
  await write('secret/compose.yaml', `services:\n  web:\n${SERVICE}    ports: ["\${PORT}"]\n`);
  await write('secret/.env', 'PORT=hunter2-not-a-port\n');
  // The override file comes after the main file, as at apply time.
  await write('over/compose.yaml', FIXED);
  await write(
    'over/compose.override.yaml',
    'services:\n  web:\n    healthcheck:\n      tset: ["CMD", "true"]\n',
  );
  // stackd's own check fails this one: compose is not asked.
  await write('yaml/compose.yaml', 'services: [\n');
  // env_file relative to --project-directory, the stack directory.
  await write('files/compose.yaml', `services:\n  web:\n${SERVICE}    env_file: [app.env]\n`);
  await write('files/app.env', 'A=1\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('stackd validate runs compose config -q (engine unreachable)', () => {
  it('exits 1 naming each stack compose rejects with compose’s own line; JSON has composeError', async () => {
    const text = await stackd(['validate', repo]);
    expect(text.exitCode).toBe(1);
    expect(text.stderr).toBe('');
    const lines = text.stdout.split('\n');
    expect(lines).toContain(`apps/web: ${V2_MESSAGE(join(repo, 'apps', 'web', 'compose.yaml'))}`);
    expect(lines.find((l) => l.startsWith('apps/web '))).toMatch(/ rejected by compose$/);
    expect(lines.find((l) => l.startsWith('db '))).toMatch(/ ok$/);
    expect(lines.find((l) => l.startsWith('yaml '))).toMatch(/ invalid$/);
    expect(lines.at(-1)).toMatch(/^6 stack\(s\), 1 invalid, 3 rejected by docker compose 2\.\d+/);

    const r = await stackd(['validate', repo, '--output', 'json']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toBe('');
    const report = json(r.stdout);
    expect(report.compose).toEqual({ command: expect.stringMatching(/^docker compose 2\./), skipped: null });
    const errors = composeErrors(report);
    expect(errors).toEqual({
      'apps/web': V2_MESSAGE(join(repo, 'apps', 'web', 'compose.yaml')),
      db: null,
      files: null,
      over: `docker compose config failed (exit 15): validating ${join(repo, 'over', 'compose.override.yaml')}: services.web.healthcheck Additional property tset is not allowed`,
      secret: 'docker compose config failed (exit 15): Invalid containerPort: ***',
      yaml: null,
    });
    // The value from .env is redacted, never shown.
    expect(r.stdout).not.toContain('hunter2');
    expect(report.stacks.find((s) => s.id === 'yaml')?.error).toMatch(/invalid YAML/);
    // Existing fields are kept.
    expect(report.stacks.find((s) => s.id === 'db')).toMatchObject({
      project: 'db',
      error: null,
      composeHash: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
    });
  });

  it('exits 0 once the repository is fixed', async () => {
    const fixed = join(dir, 'fixed');
    await mkdir(join(fixed, 'apps', 'web'), { recursive: true });
    await writeFile(join(fixed, 'apps', 'web', 'compose.yaml'), UNKNOWN_KEY);
    const before = await stackd(['validate', fixed]);
    expect(before.exitCode).toBe(1);
    await writeFile(join(fixed, 'apps', 'web', 'compose.yaml'), FIXED);
    const text = await stackd(['validate', fixed]);
    expect(text.exitCode).toBe(0);
    expect(text.stderr).toBe('');
    expect(text.stdout).toMatch(/^apps\/web +apps_web +sha256:\S+ +web +ok$/m);
    const r = await stackd(['validate', fixed, '-o', 'json', '--compose']);
    expect(r.exitCode).toBe(0);
    expect(composeErrors(json(r.stdout))).toEqual({ 'apps/web': null });
  });

  it('compose v1 (compose.command docker-compose) rejects with its own words', async () => {
    const v1 = await stackd(['validate', repo, '-o', 'json'], {
      STACKD_COMPOSE_COMMAND: 'docker-compose',
      STACKD_SCOPE_INCLUDE: 'apps/**',
    });
    expect(v1.exitCode).toBe(1);
    const report = json(v1.stdout);
    expect(report.compose?.command).toMatch(/^docker-compose 1\./);
    expect(composeErrors(report)).toEqual({
      'apps/web':
        "docker-compose config failed (exit 1): Unsupported config option for services.web: 'imagee'",
    });
  });

  it('a timeout (reconcile.timeout) fails the stack, saying so', async () => {
    const r = await stackd(['validate', repo, '-o', 'json'], {
      STACKD_RECONCILE_TIMEOUT: '1ms',
      STACKD_RECONCILE_MIN_READY: '0', // it must be shorter than reconcile.timeout
      STACKD_SCOPE_INCLUDE: 'db',
    });
    expect(r.exitCode).toBe(1);
    expect(composeErrors(json(r.stdout))).toEqual({
      db: 'docker compose config timed out after 1 ms (reconcile.timeout)',
    });
  });

  it('never contacts the engine DOCKER_HOST names', async () => {
    let connections = 0;
    const server: Server = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    try {
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('no TCP address');
      const r = await stackd(['validate', repo, '-o', 'json', '--compose'], {
        DOCKER_HOST: `tcp://127.0.0.1:${address.port}`,
        STACKD_SCOPE_INCLUDE: 'db,files',
      });
      expect(r.exitCode).toBe(0);
      expect(composeErrors(json(r.stdout))).toEqual({ db: null, files: null });
    } finally {
      await new Promise((done) => server.close(done));
    }
    expect(connections).toBe(0);
  });
});

describe('stackd validate: skipping compose', () => {
  it.each([[['--no-compose']], [['--compose=false']], [['--compose', '--no-compose']]])(
    '%j skips it, saying so in JSON and in the summary line, with no note',
    async (flags) => {
      const r = await stackd(['validate', repo, '-o', 'json', ...flags]);
      expect(r.exitCode).toBe(1); // the YAML stack, stackd's own check
      expect(r.stderr).toBe('');
      const report = json(r.stdout);
      expect(report.compose).toEqual({ command: null, skipped: '--no-compose' });
      expect(Object.values(composeErrors(report)).every((e) => e === null)).toBe(true);

      const text = await stackd(['validate', repo, ...flags, '--source-path', 'apps']);
      expect(text.exitCode).toBe(0);
      expect(text.stderr).toBe('');
      expect(text.stdout.split('\n').at(-1)).toBe('1 stack(s), 0 invalid; not checked with compose');
    },
  );

  it('--no-compose then --compose: the last one wins', async () => {
    const r = await stackd(['validate', repo, '--no-compose', '--compose', '--source-path', 'apps']);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain('web: docker compose config failed (exit 15)');
  });

  const missing = join('/nonexistent', 'bin', 'docker-compose');

  it('compose.command not found, by default: skipped with one note (text) or a field (JSON), exit 0', async () => {
    const text = await stackd(['validate', repo, '--source-path', 'apps'], {
      STACKD_COMPOSE_COMMAND: missing,
    });
    expect(text.exitCode).toBe(0);
    expect(text.stderr.split('\n')).toEqual([
      `stackd validate: note: compose config -q was not run (pass --no-compose to skip it without this note): compose command \`${missing}\` cannot be run: not found, not executable, or inside a directory stackd does not run from`,
    ]);
    expect(text.stdout.split('\n').at(-1)).toBe('1 stack(s), 0 invalid; not checked with compose');

    const r = await stackd(['validate', repo, '--source-path', 'apps', '-o', 'json'], {
      STACKD_COMPOSE_COMMAND: missing,
    });
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toBe('');
    const report = json(r.stdout);
    expect(report.compose?.command).toBeNull();
    expect(report.compose?.skipped).toContain(missing);
    expect(composeErrors(report)).toEqual({ web: null });
  });

  it('compose.command not found with --compose: exit 2 naming what was searched', async () => {
    const r = await stackd(['validate', repo, '--compose'], { STACKD_COMPOSE_COMMAND: missing });
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `stackd validate: --compose: compose command \`${missing}\` cannot be run: not found, not executable, or inside a directory stackd does not run from (compose.command "${missing}"; --no-compose skips the compose check)`,
    );
  });

  it('auto with no docker nor docker-compose on PATH: a note by default, exit 2 with --compose', async () => {
    const empty = join(dir, 'empty-bin');
    await mkdir(empty, { recursive: true });
    const env = { PATH: empty, HOME: join(dir, 'home') };
    const byDefault = await stackd(['validate', repo, '--source-path', 'apps'], env);
    expect(byDefault.exitCode).toBe(0);
    expect(byDefault.stderr).toContain('compose config -q was not run');
    expect(byDefault.stderr).toContain(`\`docker compose\`: no \`docker\` on PATH (${empty})`);
    const demanded = await stackd(['validate', repo, '--source-path', 'apps', '--compose'], env);
    expect(demanded.exitCode).toBe(2);
    expect(demanded.stdout).toBe('');
    expect(demanded.stderr).toMatch(
      /^stackd validate: --compose: no compose command found \(`docker compose`: no `docker` on PATH .*; `docker-compose`: no `docker-compose` on PATH .*\(compose\.command "auto"; --no-compose skips the compose check\)$/,
    );
  });

  it('no stack at all: compose is not asked, nothing said of it', async () => {
    const empty = join(dir, 'nothing');
    await mkdir(empty, { recursive: true });
    const r = await stackd(['validate', empty, '-o', 'json'], { STACKD_COMPOSE_COMMAND: missing });
    expect(r.exitCode).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual({ stacks: [] });
    expect(r.stderr).not.toContain('compose config');
  });
});
