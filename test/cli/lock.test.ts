/**
 * The built CLI (`make build` first): `dataDir/stackd.lock` keeps two stackds from reconciling
 * one dataDir at once. A second `stackd run` or `stackd sync --once` on a dataDir in use exits 5
 * (which the systemd unit does not restart on) with one line naming the owner's pid and the lock
 * file; read-only commands are not affected; the lock goes with a clean stop, and one left by
 * `kill -9` is replaced by the next start.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { type Daemon, startDaemon, waitForStack } from '../helpers/daemon.js';
import { isAlive, makeTempDir, removeDir, waitFor } from '../helpers/docker.js';
import { CLI, Harness, ROOT, composeFile, stackOf } from '../helpers/stackd.js';
import { expectNoStackTrace } from '../faults/fault-helpers.js';

const LOCKED = (pid: number, dataDir: string): string =>
  `another stackd (pid ${pid}) is using dataDir ${dataDir} (it holds ${join(dataDir, 'stackd.lock')}); stop it first`;

/** The only line of `stderr`, a JSON fatal line (`level: error`). */
function fatalLine(stderr: string): Record<string, unknown> {
  const lines = stderr.split('\n');
  expect(lines).toHaveLength(1);
  const line = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
  expect(line['level']).toBe('error');
  return line;
}

describe('the dataDir lock', () => {
  let h: Harness;
  let d: Daemon | undefined;
  const lockPath = (): string => join(h.dataDir, 'stackd.lock');

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`make build\` first`);
    h = await Harness.create('lock');
    await h.commit({ 'l/compose.yaml': composeFile({ x: {} }) });
  });

  afterAll(async () => {
    await d?.stop().catch(() => undefined);
    await h.cleanup();
  });

  it('a second `run` or `sync --once` on a dataDir in use exits 5 with one line naming the pid and the lock file; read-only commands work', async () => {
    d = await startDaemon(h, { STACKD_SOURCE_POLL_INTERVAL: '0' });
    const daemon = d;
    await waitForStack(daemon, h.id('l'), 'synced', (s) => s.status === 'synced');
    await started(daemon);
    expect((await readFile(lockPath(), 'utf8')).split('\n')[0]).toBe(String(daemon.pid));
    const line = LOCKED(daemon.pid, h.dataDir);

    for (const format of ['json', 'text']) {
      const started = Date.now();
      const run = await h.cli(['run'], { STACKD_LISTEN: '127.0.0.1:0', STACKD_LOG_FORMAT: format });
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(run.exitCode).toBe(5);
      expect(run.stdout).toBe('');
      if (format === 'text') expect(run.stderr).toBe(`stackd run: ${line}`);
      else
        expect(fatalLine(run.stderr)).toMatchObject({
          event: 'daemon.fatal',
          message: line,
          exitCode: run.exitCode,
        });
    }

    // log.format auto, stderr not a terminal: JSON.
    const sync = await h.cli(['sync', '--once', '--output', 'json']);
    expect(sync.exitCode).toBe(5);
    expect(sync.stdout).toBe('');
    expect(fatalLine(sync.stderr)).toMatchObject({ event: 'command.fatal', command: 'sync', message: line });
    expectNoStackTrace(sync.stderr);

    // Read-only commands take no lock.
    const plan = await h.cli(['plan', '--output', 'json']);
    expect(plan.exitCode).toBe(0);
    expect(plan.stderr).not.toContain('another stackd');
    const status = await h.cli(['status', '--server', daemon.url, '--output', 'json']);
    expect(status.exitCode).toBe(0);
    const config = await h.cli(['config']);
    expect(config.exitCode).toBe(0);

    // The daemon is untouched and still holds the lock.
    expect(await isAlive(daemon.pid)).toBe(true);
    expect((await daemon.get('/healthz')).status).toBe(200);
    expect((await readFile(lockPath(), 'utf8')).split('\n')[0]).toBe(String(daemon.pid));
    expect(daemon.logs.filter((l) => l['event'] === 'state.lock_stale')).toEqual([]);

    expect(await daemon.stop()).toBe(0);
    d = undefined;
    expect(existsSync(lockPath())).toBe(false);

    const after = await h.sync();
    expect(after.exitCode).toBe(0);
    expect(stackOf(after.response, h.id('l')).status).toBe('synced');
    expect(after.stderr).not.toContain('lock');
    expect(existsSync(lockPath())).toBe(false);
  });

  it('a lock left by `kill -9` is replaced by the next start, with a warning', async () => {
    d = await startDaemon(h, { STACKD_SOURCE_POLL_INTERVAL: '0' });
    const killed = d;
    await waitForStack(killed, h.id('l'), 'synced', (s) => s.status === 'synced');
    await killed.stop('SIGKILL');
    d = undefined;
    expect(await isAlive(killed.pid)).toBe(false);
    expect((await readFile(lockPath(), 'utf8')).split('\n')[0]).toBe(String(killed.pid));

    const sync = await h.sync();
    expect(sync.exitCode).toBe(0);
    expect(stackOf(sync.response, h.id('l')).status).toBe('synced');
    const warnings = sync.stderr
      .split('\n')
      .filter((l) => l.includes('state.lock_stale'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 'warn', event: 'state.lock_stale' });
    expect(String(warnings[0]?.['message'])).toContain(`pid ${killed.pid} is no longer running`);
    expect(existsSync(lockPath())).toBe(false);

    // And the daemon starts over a stale lock too.
    await killedAgain(h);
    d = await startDaemon(h, { STACKD_SOURCE_POLL_INTERVAL: '0' });
    await started(d);
    expect(d.logs.some((l) => l['event'] === 'state.lock_stale')).toBe(true);
    expect((await readFile(lockPath(), 'utf8')).split('\n')[0]).toBe(String(d.pid));
    expect(await d.stop()).toBe(0);
    d = undefined;
  });

  it('SIGTERM during startup: a clean exit 0 once startup is done, and the lock goes', async () => {
    const child = h.daemon([], {
      STACKD_LISTEN: '127.0.0.1:0',
      STACKD_SOURCE_POLL_INTERVAL: '0',
      STACKD_LOG_LEVEL: 'info',
    });
    // The lock is taken after the signal handlers are installed and before the controller starts.
    await waitFor('the lock', () => existsSync(lockPath()), 30_000);
    child.kill('SIGTERM');
    const result = await child;
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain('daemon.stopped');
    expect(existsSync(lockPath())).toBe(false);
  });
});

/** Until the daemon has started its controller (and handles SIGTERM): it logs the compose command then. */
function started(daemon: Daemon): Promise<unknown> {
  return waitFor(
    'the daemon to start its controller',
    () => daemon.logs.some((l) => l['event'] === 'compose.detected' || l['event'] === 'compose.unavailable'),
    30_000,
  );
}

/** Leaves a stale lock: a `stackd run` killed with SIGKILL as soon as it listens. */
async function killedAgain(h: Harness): Promise<void> {
  const daemon = await startDaemon(h, { STACKD_SOURCE_POLL_INTERVAL: '0' });
  await daemon.stop('SIGKILL');
  expect(existsSync(join(h.dataDir, 'stackd.lock'))).toBe(true);
}

describe('the dataDir lock, taken by many processes at once', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir('stackd-lock-race-');
  });
  afterAll(async () => {
    await removeDir(dir);
  });

  it.each(['a dead pid', 'garbage'])(
    'over a stale lock (%s), exactly one of 16 wins; the others name the winner',
    async (kind) => {
      const lock = join(dir, kind === 'garbage' ? 'garbage' : 'dead', 'stackd.lock');
      const dataDir = dirname(lock);
      await mkdir(dataDir);
      const dead = execa('true');
      await dead;
      await writeFile(lock, kind === 'garbage' ? '' : `${dead.pid ?? 0}\n`);
      const then = new Date(Date.now() - 60_000);
      await utimes(lock, then, then);
      const script = join(dir, 'take.mjs');
      // A winner holds the lock until its stdin closes: after every other one has answered.
      await writeFile(
        script,
        [
          `import { once } from 'node:events';`,
          `import { acquireDataDirLock } from ${JSON.stringify(join(ROOT, 'dist/internal/state/lock.js'))};`,
          `import { silentLogger } from ${JSON.stringify(join(ROOT, 'dist/internal/log/index.js'))};`,
          'try {',
          '  const lock = await acquireDataDirLock({ dataDir: process.argv[2], logger: silentLogger() });',
          "  console.log('won');",
          '  process.stdin.resume();',
          "  await once(process.stdin, 'end');",
          '  await lock.release();',
          '} catch (error) {',
          '  console.log(error.message);',
          '}',
        ].join('\n'),
      );
      const procs = Array.from({ length: 16 }, () => execa('node', [script, dataDir], { reject: false }));
      const answers = new Map<number, string>();
      for (const p of procs) {
        p.stdout.on('data', (chunk: Buffer) => {
          answers.set(p.pid ?? -1, `${answers.get(p.pid ?? -1) ?? ''}${chunk.toString()}`.trim());
        });
      }
      await waitFor('every process to answer', () => answers.size === procs.length, 30_000);
      for (const p of procs) p.stdin.end();
      await Promise.all(procs);
      const won = [...answers].filter(([, answer]) => answer === 'won');
      expect(won).toHaveLength(1);
      const winner = won[0]?.[0] ?? -1;
      for (const [pid, answer] of answers) if (pid !== winner) expect(answer).toBe(LOCKED(winner, dataDir));
      expect(await readdir(dataDir)).toEqual([]);
    },
  );
});
