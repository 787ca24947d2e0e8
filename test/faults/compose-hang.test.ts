/**
 * Fault: the compose command hangs. STACKD_COMPOSE_COMMAND points at a script that answers
 * `version` and `config` but sleeps forever on `up` (and leaves a sleeping child of its own);
 * with a 3 s reconcile timeout the stack must fail with a timeout message and the script's
 * whole process group must be gone. A flag file turns the script into the real `docker compose`,
 * which must then converge.
 */
import { randomInt } from 'node:crypto';
import { chmod, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Daemon, startDaemon, waitForStack } from '../helpers/daemon.js';
import { isAlive, waitFor } from '../helpers/docker.js';
import { Harness, composeFile, stackOf } from '../helpers/stackd.js';
import { expectNoStackTrace, logText, processesWith, sleep } from './fault-helpers.js';

describe('fault: a compose command that hangs', () => {
  let h: Harness;
  let script: string;
  let healthy: string;
  let d: Daemon | undefined;
  const hangLog = (): string => join(h.root, 'hang.log');
  /** Unique number in the script's path and in its sleeps' arguments. */
  const marker = String(randomInt(100_000_000, 999_999_999));

  beforeAll(async () => {
    h = await Harness.create('hang');
    script = join(h.root, `compose-hang-${marker}.sh`);
    healthy = join(h.root, 'compose-healthy');
    await writeFile(
      script,
      [
        '#!/bin/sh',
        `if [ -e '${healthy}' ]; then exec docker compose "$@"; fi`,
        'for arg in "$@"; do',
        '  case "$arg" in',
        '    version) echo 2.99.0-hang; exit 0 ;;',
        '    config) exit 0 ;;',
        '    up|down) break ;;',
        '  esac',
        'done',
        `echo "$$ $*" >> '${hangLog()}'`,
        `sleep ${marker} &`,
        `sleep ${marker}`,
        '',
      ].join('\n'),
    );
    await chmod(script, 0o755);
  });

  afterAll(async () => {
    await d?.stop().catch(() => undefined);
    for (const p of await processesWith(marker)) process.kill(p.pid, 'SIGKILL');
    await h.cleanup();
  });

  it('sync --once: the stack fails with a timeout after ~3 s, the running version is kept, no process is left', async () => {
    await h.commit({ 'web/compose.yaml': composeFile({ w: {} }) });
    expect((await h.sync()).exitCode).toBe(0);
    const ids = await h.ids('web');
    await h.commit({ 'web/compose.yaml': composeFile({ w: { image: 2 } }) });

    const started = Date.now();
    const { exitCode, response, stderr } = await h.sync({
      STACKD_COMPOSE_COMMAND: script,
      STACKD_RECONCILE_TIMEOUT: '3s',
    });
    const took = Date.now() - started;
    expect(exitCode).toBe(1);
    expect(took).toBeLessThan(20_000);
    const web = stackOf(response, h.id('web'));
    expect(web.status).toBe('failed');
    expect(web.message).toMatch(/timed out after \d+ ms/);
    expect(web.lastResult).toMatchObject({ outcome: 'failure' });
    expect(await readFile(hangLog(), 'utf8')).toMatch(/ up -d/);
    expectNoStackTrace(stderr);
    expect(await processesWith(marker)).toEqual([]);
    expect(await h.ids('web')).toEqual(ids);
    const [container] = await h.containers('web');
    expect(container?.State).toBe('running');
  });

  it('the daemon: failed with a timeout, retried, alive, no process left behind, SIGTERM still exits; with compose healthy again it converges', async () => {
    const rev = await h.commit({ 'web/compose.yaml': composeFile({ w: { image: 2 } }), 'web/x.txt': 'x' });
    const ids = await h.ids('web');
    d = await startDaemon(h, {
      STACKD_COMPOSE_COMMAND: script,
      STACKD_RECONCILE_TIMEOUT: '3s',
      STACKD_SOURCE_POLL_INTERVAL: '0',
    });
    const daemon = d;
    const failed = await waitForStack(daemon, h.id('web'), 'failed', (s) => s.status === 'failed', 20_000);
    expect(failed.message).toMatch(/timed out after \d+ ms/);
    // The first retry comes ~2 s later and hangs again: wait for it to be cut off too.
    await waitFor(
      'a second timed-out attempt',
      async () =>
        (await daemon.metric('stackd_reconcile_total', { stack: h.id('web'), result: 'failure' })) >= 2,
      30_000,
    );
    // Retries keep coming (and hanging); none may outlive its 3 s timeout by much.
    for (let i = 0; i < 10; i++) {
      const left = await processesWith(marker);
      expect(left.filter((p) => p.ageMs > 6000)).toEqual([]);
      await sleep(500);
    }
    expect(await isAlive(daemon.pid)).toBe(true);
    expect((await daemon.get('/healthz')).status).toBe(200);
    expect(await h.ids('web')).toEqual(ids);

    // SIGTERM while an attempt hangs: the daemon lets it run into its timeout, then exits.
    const sync = (): Promise<Response> =>
      fetch(`${d?.url ?? ''}/api/v1/stacks/${encodeURIComponent(h.id('web'))}/sync`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
      });
    expect((await sync()).status).toBe(202);
    await waitFor('a hanging attempt', async () => (await processesWith(marker)).length > 0, 10_000, 25);
    const stopping = Date.now();
    expect(await daemon.stop()).toBe(0);
    expect(Date.now() - stopping).toBeLessThan(8000);
    expect(await processesWith(marker)).toEqual([]);
    expectNoStackTrace(logText(daemon));

    await writeFile(healthy, '');
    d = await startDaemon(h, {
      STACKD_COMPOSE_COMMAND: script,
      STACKD_RECONCILE_TIMEOUT: '3s',
      STACKD_SOURCE_POLL_INTERVAL: '0',
    });
    const again = d;
    await waitForStack(
      again,
      h.id('web'),
      'synced with compose healthy',
      (s) => s.status === 'synced' && s.synced?.revision === rev,
      60_000,
    );
    expect(await h.ids('web')).not.toEqual(ids);
    expect(await again.stop()).toBe(0);
    expectNoStackTrace(logText(again));
    d = undefined;
    await rm(healthy);
    expect(await processesWith(marker)).toEqual([]);
  });

  it('kill -9 while compose hangs: the compose process group outlives stackd, and the next stackd reaps it before it starts', async () => {
    await h.commit({ 'web/compose.yaml': composeFile({ w: {} }), 'web/x.txt': 'reap' });
    d = await startDaemon(h, {
      STACKD_COMPOSE_COMMAND: script,
      STACKD_RECONCILE_TIMEOUT: '120s',
      STACKD_SOURCE_POLL_INTERVAL: '0',
    });
    const killed = d;
    await waitFor('a hanging compose up', async () => (await processesWith(marker)).length >= 2, 20_000, 25);
    await killed.stop('SIGKILL');
    d = undefined;
    const orphans = await processesWith(marker);
    expect(orphans.length).toBeGreaterThanOrEqual(2); // the script and its sleep
    expect(await readdir(join(h.dataDir, 'children'))).toHaveLength(1);

    const { exitCode, stderr } = await h.sync({ STACKD_COMPOSE_COMMAND: 'docker compose' });
    expect(stderr).toMatch(/"event":"compose\.reaped"/);
    expect(exitCode).toBe(0);
    await waitFor('the orphans gone', async () => (await processesWith(marker)).length === 0, 5_000, 25);
    expect(await readdir(join(h.dataDir, 'children'))).toEqual([]);
  });
});
