/**
 * Fault: the Docker engine answers every request but creates containers it never starts. The
 * daemon talks to the real engine through a proxy (engine-proxy.ts) that holds back container
 * starts: the daemon goes unready within half the timeout, and back once a container starts.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Daemon, startDaemon, waitForStack } from '../helpers/daemon.js';
import { waitFor } from '../helpers/docker.js';
import { Harness, composeFile } from '../helpers/stackd.js';
import { type StallingProxy, startStartStallingProxy } from './engine-proxy.js';
import { expectNoStackTrace, logText, refresh } from './fault-helpers.js';

describe('fault: the Docker engine answers but starts no container', () => {
  let h: Harness;
  let proxy: StallingProxy;
  let d: Daemon | undefined;

  beforeAll(async () => {
    h = await Harness.create('startstall');
    proxy = await startStartStallingProxy(join(h.root, 'engine.sock'));
  });

  afterAll(async () => {
    proxy.stalled = false;
    await d?.stop().catch(() => undefined);
    await proxy.close();
    await h.cleanup();
  });

  it('stackd_runtime_up goes 0 and /readyz not ready within half the timeout; both come back once a container starts', async () => {
    await h.commit({ 'web/compose.yaml': composeFile({ w: {} }) });
    d = await startDaemon(h, {
      DOCKER_HOST: `unix://${proxy.path}`,
      STACKD_SOURCE_POLL_INTERVAL: '0',
      STACKD_RECONCILE_TIMEOUT: '16s',
    });
    const daemon = d;
    await waitForStack(daemon, h.id('web'), 'synced', (s) => s.status === 'synced');
    expect(await daemon.metric('stackd_runtime_up')).toBe(1);

    proxy.stalled = true;
    const rev = await h.commit({ 'web/compose.yaml': composeFile({ w: { image: 2 } }) });
    await refresh(daemon);
    await waitFor('readyz 503', async () => (await daemon.get('/readyz')).status === 503, 30_000, 250);
    const answer = (await (await daemon.get('/readyz')).json()) as { reason: string };
    expect(answer.reason).toMatch(/started no container for \d+ s \(.* created, not started\)/);
    expect(await daemon.metric('stackd_runtime_up')).toBe(0);
    expect(daemon.logs.find((l) => l['event'] === 'runtime.stalled')).toMatchObject({ level: 'error' });
    // The apply burns its timeout, and fails (it is retried at once: an event came during it).
    const failed = await waitForStack(
      daemon,
      h.id('web'),
      'a failed attempt',
      (s) => s.lastResult?.outcome === 'failure',
      30_000,
    );
    expect(failed.lastResult?.message).toMatch(/timed out/);

    proxy.stalled = false;
    await waitForStack(
      daemon,
      h.id('web'),
      'synced again',
      (s) => s.status === 'synced' && s.synced?.revision === rev,
      60_000,
    );
    await waitFor('readyz 200', async () => (await daemon.get('/readyz')).status === 200, 10_000);
    expect(await daemon.metric('stackd_runtime_up')).toBe(1);
    expect(daemon.logs.find((l) => l['event'] === 'runtime.recovered')).toBeDefined();
    expect(await daemon.stop()).toBe(0);
    expectNoStackTrace(logText(daemon));
    d = undefined;
  });
});
