/**
 * Fault: the Docker engine stops answering without closing anything (a hung dockerd, or a
 * black-holed TCP DOCKER_HOST). The daemon talks to the real engine through a proxy in this
 * file that, when stalled, swallows every byte both ways and accepts new connections it never
 * serves. No request may block stackd forever: the stack fails, the daemon goes unready, keeps
 * running, and converges once the engine answers again. The real engine is never touched.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Daemon, startDaemon, waitForStack } from '../helpers/daemon.js';
import { isAlive, waitFor } from '../helpers/docker.js';
import { Harness, composeFile } from '../helpers/stackd.js';
import { type StallingProxy, startStallingProxy } from './engine-proxy.js';
import { expectNoStackTrace, logText, refresh, slowCompose } from './fault-helpers.js';

describe('fault: the Docker engine hangs (accepts, never answers)', () => {
  let h: Harness;
  let proxy: StallingProxy;
  let d: Daemon | undefined;

  beforeAll(async () => {
    h = await Harness.create('enginehang');
    proxy = await startStallingProxy(join(h.root, 'engine.sock'));
  });

  afterAll(async () => {
    proxy.stalled = false;
    await d?.stop().catch(() => undefined);
    await proxy.close();
    await h.cleanup();
  });

  it('the stack fails and the daemon goes unready instead of blocking forever; answering again, it converges', async () => {
    await h.commit({ 'web/compose.yaml': composeFile({ w: {} }), 'slow/compose.yaml': slowCompose(1) });
    d = await startDaemon(h, {
      DOCKER_HOST: `unix://${proxy.path}`,
      STACKD_SOURCE_POLL_INTERVAL: '0',
      STACKD_RECONCILE_TIMEOUT: '20s',
    });
    const daemon = d;
    await waitForStack(daemon, h.id('slow'), 'synced', (s) => s.status === 'synced');
    await waitForStack(daemon, h.id('web'), 'synced', (s) => s.status === 'synced');
    const webIds = await h.ids('web');

    const rev = await h.commit({ 'slow/compose.yaml': slowCompose(2) });
    await refresh(daemon);
    await waitForStack(daemon, h.id('slow'), 'syncing', (s) => s.status === 'syncing', 20_000);
    proxy.stalled = true;

    // Whatever was cut off (compose, or a container list), it gives up within its timeout.
    const failed = await waitForStack(daemon, h.id('slow'), 'failed', (s) => s.status === 'failed', 45_000);
    expect(failed.message).toMatch(/timed out|no answer within|unreachable|cannot reach/i);
    await waitFor('readyz 503', async () => (await daemon.get('/readyz')).status === 503, 45_000, 250);
    expect(await daemon.metric('stackd_runtime_up')).toBe(0);
    expect(await isAlive(daemon.pid)).toBe(true);
    expect(await h.ids('web')).toEqual(webIds);

    proxy.stalled = false;
    await waitForStack(
      daemon,
      h.id('slow'),
      'synced at the new revision',
      (s) => s.status === 'synced' && s.synced?.revision === rev,
      60_000,
    );
    await waitFor('readyz 200', async () => (await daemon.get('/readyz')).status === 200, 30_000);
    expect(await h.ids('web')).toEqual(webIds);
    const stopping = Date.now();
    expect(await daemon.stop()).toBe(0);
    expect(Date.now() - stopping).toBeLessThan(10_000);
    expectNoStackTrace(logText(daemon));
    d = undefined;
  });
});
