/**
 * The built CLI's stderr (`make build` first), as an operator meets it: one line for a failed fetch
 * of `sync --once` and `plan`; a fatal error as the last line, in the log format (JSON under
 * `json`, and under `auto` off a terminal), with the error's exit code; `auto` is text on a
 * terminal (a pty from script(1)); the syslog priority prefix exactly when stderr is the stream
 * JOURNAL_STREAM names (here a file whose device:inode is put in the variable, as systemd does
 * for its journal socket). No Docker engine: DOCKER_HOST points nowhere.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, fstatSync, openSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { CLI } from '../deploy/helpers.js';

/** A remote nobody listens on: the fetch fails at once with ECONNREFUSED. */
const DEAD_REMOTE = 'http://127.0.0.1:9/stacks.git';
const FETCH_ERROR = 'connect ECONNREFUSED 127.0.0.1:9';

let dir: string;
beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`make build\` first`);
  dir = await mkdtemp(join(tmpdir(), 'stackd-logs-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let runs = 0;
/** The built stackd with only these variables, its own dataDir and no reachable engine. */
function env(extra: Record<string, string> = {}): Record<string, string> {
  runs += 1;
  return {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    DOCKER_HOST: 'unix:///nonexistent/docker.sock',
    STACKD_DATA_DIR: join(dir, `data-${runs}`),
    ...extra,
  };
}

async function stackd(args: readonly string[], extra: Record<string, string> = {}) {
  const r = await execa(process.execPath, [CLI, ...args], {
    reject: false,
    extendEnv: false,
    env: env(extra),
    timeout: 60_000,
  });
  return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('a failed fetch of a one-shot command is one line', () => {
  it.each([
    ['sync', '--once'],
    ['plan', undefined],
  ])('%s: exit 3, one source.fetch warn line in JSON, every line with an event', async (command, flag) => {
    const args = [command, ...(flag === undefined ? [] : [flag]), '--source-url', DEAD_REMOTE];
    const r = await stackd(args, { STACKD_LOG_FORMAT: 'json' });
    expect(r.exitCode).toBe(3);
    expect(r.stdout).not.toContain(FETCH_ERROR);
    const mentions = r.stderr.split('\n').filter((l) => l.includes(FETCH_ERROR));
    expect(mentions).toHaveLength(1);
    const lines = jsonLines(r.stderr);
    for (const line of lines) expect(typeof line['event']).toBe('string');
    const fetches = lines.filter((l) => l['event'] === 'source.fetch');
    expect(fetches).toEqual([expect.objectContaining({ level: 'warn', result: 'failure' })]);
    expect(String(fetches[0]?.['message'])).toContain(FETCH_ERROR);
  });

  it('in text, and under --log-level error (which hides the warning: said once, as an error)', async () => {
    const text = await stackd(['sync', '--once', '--source-url', DEAD_REMOTE], { STACKD_LOG_FORMAT: 'text' });
    expect(text.exitCode).toBe(3);
    const mentions = text.stderr.split('\n').filter((l) => l.includes(FETCH_ERROR));
    expect(mentions).toHaveLength(1);
    expect(mentions[0]).toMatch(
      / warn \[source\.fetch\] fetching http:\/\/127\.0\.0\.1:9\/stacks\.git failed/,
    );

    const quiet = await stackd(['sync', '--once', '--source-url', DEAD_REMOTE, '--log-level', 'error']);
    expect(quiet.exitCode).toBe(3);
    expect(jsonLines(quiet.stderr)).toEqual([
      expect.objectContaining({ level: 'error', event: 'source.fetch', result: 'failure' }),
    ]);
  });
});

describe('a fatal error is the last line, in the log format', () => {
  it('json: level error, command.fatal, the message, command and exitCode', async () => {
    const r = await stackd(['config'], { STACKD_LOG_FORMAT: 'json', STACKD_RECONCILE_TIMEOUT: 'banana' });
    expect(r.exitCode).toBe(2);
    const lines = jsonLines(r.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'error',
      event: 'command.fatal',
      command: 'config',
      exitCode: 2,
    });
    expect(String(lines[0]?.['message'])).toContain('reconcile.timeout');
  });

  it('run: daemon.fatal; auto off a terminal is JSON; the format is found when the configuration is what failed', async () => {
    const bad = await stackd(['run', '--log-format', 'json', '--listen', 'nowhere']);
    expect(bad.exitCode).toBe(2);
    expect(jsonLines(bad.stderr).at(-1)).toMatchObject({
      level: 'error',
      event: 'daemon.fatal',
      exitCode: 2,
    });

    const usage = await stackd(['sync', '--bogus']);
    expect(usage.exitCode).toBe(2);
    expect(jsonLines(usage.stderr)).toEqual([
      expect.objectContaining({
        event: 'command.fatal',
        command: 'sync',
        message: expect.stringContaining('--bogus'),
      }),
    ]);
  });

  it('text: `stackd <command>: message`, as before', async () => {
    const r = await stackd(['config', '--log-format', 'text'], { STACKD_RECONCILE_TIMEOUT: 'banana' });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(
      /^stackd config: invalid configuration: reconcile\.timeout \(STACKD_RECONCILE_TIMEOUT\)/,
    );
    expect(r.stderr.split('\n')).toHaveLength(1);
  });

  it('an invalid log.format is a loud error (exit 2, naming the key and the choices)', async () => {
    const r = await stackd(['config'], { STACKD_LOG_FORMAT: 'yaml' });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('log.format (STACKD_LOG_FORMAT)');
    expect(r.stderr).toContain('[\\"auto\\",\\"json\\",\\"text\\"]');
  });
});

describe('log.format auto on a terminal', () => {
  const script = ['/usr/bin/script', '/bin/script'].find((p) => existsSync(p));
  // Skipped only off CI when script(1) is missing; under CI (CI=true) its absence fails the test.
  (script === undefined && process.env['CI'] !== 'true' ? it.skip : it)(
    'is text (script(1) gives stackd a pty)',
    async () => {
      const command = `${process.execPath} ${CLI} sync --once --source-url ${DEAD_REMOTE}`;
      const r = await execa(script ?? 'script', ['-qec', command, '/dev/null'], {
        reject: false,
        extendEnv: false,
        env: env(),
        timeout: 60_000,
      });
      expect(r.exitCode).toBe(3);
      const mentions = r.stdout.split(/\r?\n/).filter((l) => l.includes(FETCH_ERROR));
      expect(mentions).toHaveLength(1);
      expect(mentions[0]).toMatch(/^\S+ warn \[source\.fetch\] /);
    },
  );
});

describe('the syslog priority prefix', () => {
  /** Runs stackd with stderr into a file; JOURNAL_STREAM is that file's dev:ino when `journal`. */
  async function toFile(args: readonly string[], journal: boolean, extra: Record<string, string> = {}) {
    const path = join(dir, `stderr-${runs}`);
    const fd = openSync(path, 'w');
    try {
      const stat = fstatSync(fd, { bigint: true });
      const stream = journal ? `${stat.dev}:${stat.ino}` : `${stat.dev}:${stat.ino + 1n}`;
      // child_process, not execa: the descriptor itself must be stackd's fd 2 (execa pipes).
      const child = spawn(process.execPath, [CLI, ...args], {
        env: env({ JOURNAL_STREAM: stream, ...extra }),
        stdio: ['ignore', 'ignore', fd],
        timeout: 60_000,
      });
      const [exitCode] = (await once(child, 'exit')) as [number | null];
      return { exitCode, lines: (await readFile(path, 'utf8')).trimEnd().split('\n') };
    } finally {
      closeSync(fd);
    }
  }

  it('starts each line when stderr is the journal stream: <4> the fetch failure, <6> info, <3> a fatal error', async () => {
    const sync = await toFile(['sync', '--once', '--source-url', DEAD_REMOTE], true, {
      STACKD_LOG_FORMAT: 'json',
    });
    expect(sync.exitCode).toBe(3);
    const fetch = sync.lines.find((l) => l.includes('"source.fetch"'));
    expect(fetch?.startsWith('<4>{')).toBe(true);
    expect(JSON.parse(fetch?.slice(3) ?? '')).toMatchObject({ level: 'warn', event: 'source.fetch' });
    const missing = sync.lines.find((l) => l.includes('"state.missing"'));
    expect(missing?.startsWith('<6>{')).toBe(true);
    for (const line of sync.lines) expect(line).toMatch(/^<[3467]>\{/);

    const fatal = await toFile(['run', '--listen', 'nowhere'], true, { STACKD_LOG_FORMAT: 'json' });
    expect(fatal.exitCode).toBe(2);
    expect(fatal.lines.at(-1)).toMatch(/^<3>\{.*"event":"daemon\.fatal"/);

    const text = await toFile(['config'], true, {
      STACKD_LOG_FORMAT: 'text',
      STACKD_RECONCILE_TIMEOUT: 'banana',
    });
    expect(text.lines).toEqual([expect.stringMatching(/^<3>stackd config: invalid configuration: /)]);
  });

  it('is absent when JOURNAL_STREAM names another stream (inherited, stderr redirected)', async () => {
    const sync = await toFile(['sync', '--once', '--source-url', DEAD_REMOTE], false, {
      STACKD_LOG_FORMAT: 'json',
    });
    expect(sync.exitCode).toBe(3);
    for (const line of sync.lines) expect(line.startsWith('{')).toBe(true);
  });
});
