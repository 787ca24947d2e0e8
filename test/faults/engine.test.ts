/**
 * Fault: the Docker engine goes away in the middle of a reconcile and comes back. The daemon
 * talks to the real engine through a unix-socket proxy (DOCKER_HOST) that the test cuts; the
 * real engine is never touched.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Daemon, startDaemon, waitForStack } from '../helpers/daemon.js';
import { type SocketProxy, isAlive, startSocketProxy, waitFor } from '../helpers/docker.js';
import { Harness, composeFile } from '../helpers/stackd.js';
import { expectNoStackTrace, logText, refresh, slowCompose, sleep } from './fault-helpers.js';

const UNREACHABLE = /unreachable|cannot reach|lost the Docker engine|cannot connect/i;

describe('fault: the Docker engine vanishes during an apply', () => {
  let h: Harness;
  let proxy: SocketProxy;
  let d: Daemon | undefined;

  beforeAll(async () => {
    h = await Harness.create('engine');
    proxy = await startSocketProxy(join(h.root, 'engine.sock'));
  });

  afterAll(async () => {
    await d?.stop().catch(() => undefined);
    await proxy.close();
    await h.cleanup();
  });

  it('fails the stack as unreachable, goes unready, keeps running and loses nothing; with the engine back it converges', async () => {
    const rev1 = await h.commit({
      'web/compose.yaml': composeFile({ w: {} }),
      'slow/compose.yaml': slowCompose(1),
    });
    d = await startDaemon(h, {
      DOCKER_HOST: `unix://${proxy.path}`,
      STACKD_SOURCE_POLL_INTERVAL: '0',
    });
    const daemon = d;
    await waitForStack(daemon, h.id('slow'), 'synced', (s) => s.status === 'synced');
    await waitForStack(daemon, h.id('web'), 'synced', (s) => s.status === 'synced');
    expect((await daemon.stacks()).revision).toBe(rev1);
    const webIds = await h.ids('web');

    const rev2 = await h.commit({ 'slow/compose.yaml': slowCompose(2) });
    await refresh(daemon);
    await waitForStack(daemon, h.id('slow'), 'syncing', (s) => s.status === 'syncing', 20_000);
    await proxy.pause();
    const cut = Date.now();

    const failed = await waitForStack(daemon, h.id('slow'), 'failed', (s) => s.status === 'failed', 20_000);
    expect(failed.message).toMatch(UNREACHABLE);
    expect(failed.desired?.revision).toBe(rev2);
    await waitFor('readyz 503', async () => (await daemon.get('/readyz')).status === 503, 10_000);
    expect(await daemon.metric('stackd_runtime_up')).toBe(0);
    // Retries while the engine is away keep the stack failed with an "unreachable" reason.
    await sleep(Math.max(0, 5000 - (Date.now() - cut)));
    expect(await isAlive(daemon.pid)).toBe(true);
    const during = await daemon.stacks();
    expect(during.revision).toBe(rev2);
    const slow = during.stacks.find((s) => s.id === h.id('slow'));
    expect(slow?.status).toBe('failed');
    expect(slow?.message).toMatch(UNREACHABLE);
    // The other stack is neither reported as anything but what it was, nor touched.
    expect(during.stacks.find((s) => s.id === h.id('web'))?.status).not.toBe('syncing');
    expect(await h.ids('web')).toEqual(webIds);

    await proxy.resume();
    await waitForStack(
      daemon,
      h.id('slow'),
      'synced at the new revision',
      (s) => s.status === 'synced' && s.synced?.revision === rev2,
      90_000,
    );
    await waitFor('readyz 200', async () => (await daemon.get('/readyz')).status === 200, 30_000);
    expect(await daemon.metric('stackd_runtime_up')).toBe(1);
    const web = await waitForStack(daemon, h.id('web'), 'synced', (s) => s.status === 'synced', 30_000);
    expect(web.synced?.revision).toBe(rev2);
    expect(await h.ids('web')).toEqual(webIds);
    const slowContainers = await h.containers('slow');
    expect(slowContainers.map((c) => [c.State, c.Image])).toEqual([['running', 'stackd-test/busybox:2']]);

    expect(await isAlive(daemon.pid)).toBe(true);
    expect(await daemon.stop()).toBe(0);
    expectNoStackTrace(logText(daemon));
  });

  it('engine away at start-up: the daemon starts unready and keeps running, SIGTERM still exits promptly; with it back a restart converges', async () => {
    const rev = await h.commit({ 'web/compose.yaml': composeFile({ w: { image: 2 } }) });
    await proxy.pause();
    d = await startDaemon(h, {
      DOCKER_HOST: `unix://${proxy.path}`,
      STACKD_SOURCE_POLL_INTERVAL: '0',
    });
    const daemon = d;
    await waitFor('the new revision fetched', async () => (await daemon.stacks()).revision === rev, 20_000);
    const web = await waitForStack(daemon, h.id('web'), 'failed', (s) => s.status === 'failed', 20_000);
    expect(web.message).toMatch(UNREACHABLE);
    const ready = await daemon.get('/readyz');
    expect(ready.status).toBe(503);
    expect(JSON.stringify(await ready.json())).toMatch(/Docker engine is not reachable/);
    expect(await daemon.metric('stackd_runtime_up')).toBe(0);
    await sleep(3000);
    expect(await isAlive(daemon.pid)).toBe(true);

    const stopping = Date.now();
    expect(await daemon.stop()).toBe(0);
    expect(Date.now() - stopping).toBeLessThan(10_000);
    expectNoStackTrace(logText(daemon));

    await proxy.resume();
    d = await startDaemon(h, {
      DOCKER_HOST: `unix://${proxy.path}`,
      STACKD_SOURCE_POLL_INTERVAL: '0',
    });
    const back = d;
    await waitForStack(
      back,
      h.id('web'),
      'synced at the new revision',
      (s) => s.status === 'synced' && s.synced?.revision === rev,
    );
    await waitForStack(
      back,
      h.id('slow'),
      'synced',
      (s) => s.status === 'synced' && s.synced?.revision === rev,
    );
    const [container] = await h.containers('web');
    expect(container?.Image).toBe('stackd-test/busybox:2');
  });
});
