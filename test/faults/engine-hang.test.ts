/**
 * Fault: the Docker engine stops answering without closing anything (a hung dockerd, or a
 * black-holed TCP DOCKER_HOST). The daemon talks to the real engine through a proxy in this
 * file that, when stalled, swallows every byte both ways and accepts new connections it never
 * serves. No request may block stackd forever: the stack fails, the daemon goes unready, keeps
 * running, and converges once the engine answers again. The real engine is never touched.
 */
import { rm } from 'node:fs/promises';
import { type Server, type Socket, createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Daemon, startDaemon, waitForStack } from '../helpers/daemon.js';
import { isAlive, waitFor } from '../helpers/docker.js';
import { Harness, composeFile } from '../helpers/stackd.js';
import { expectNoStackTrace, logText, refresh, slowCompose } from './fault-helpers.js';

interface StallingProxy {
  readonly path: string;
  stalled: boolean;
  close(): Promise<void>;
}

/**
 * A unix-socket proxy to the real engine. `wire` forwards (or not) the bytes of one connection;
 * the proxy does the rest: either side's error or close closes both, `close()` cuts them all, and
 * `onResume` runs when `stalled` goes back to false.
 */
async function startProxy(
  path: string,
  wire: (client: Socket, upstream: Socket, state: { readonly stalled: boolean }) => void,
  onResume: () => void = () => undefined,
): Promise<StallingProxy> {
  const state = { stalled: false };
  const sockets = new Set<Socket>();
  await rm(path, { force: true });
  const server: Server = createServer((client) => {
    const upstream = createConnection('/var/run/docker.sock');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    wire(client, upstream, state);
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return {
    path,
    get stalled() {
      return state.stalled;
    },
    set stalled(value: boolean) {
      state.stalled = value;
      if (!value) onResume();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => {
          resolve();
        });
      }),
  };
}

/** While stalled, every byte either way is swallowed (and new connections are never served). */
function startStallingProxy(path: string): Promise<StallingProxy> {
  return startProxy(path, (client, upstream, state) => {
    client.on('data', (chunk: Buffer) => {
      if (!state.stalled) upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (!state.stalled) client.write(chunk);
    });
  });
}

/**
 * Passes everything but `POST …/containers/{id}/start`: while `stalled`, a connection carrying
 * one is held (nothing more forwarded to the engine) until it is released.
 */
function startStartStallingProxy(path: string): Promise<StallingProxy> {
  const held: (() => void)[] = [];
  return startProxy(
    path,
    (client, upstream, state) => {
      let holding: Buffer[] | undefined;
      client.on('data', (chunk: Buffer) => {
        if (
          holding === undefined &&
          state.stalled &&
          /^POST \S*\/containers\/[^/\s]+\/start/.test(chunk.toString('latin1'))
        ) {
          holding = [];
          held.push(() => {
            for (const c of holding ?? []) upstream.write(c);
            holding = undefined;
          });
        }
        if (holding !== undefined) holding.push(chunk);
        else upstream.write(chunk);
      });
      upstream.on('data', (chunk: Buffer) => client.write(chunk));
    },
    () => {
      for (const release of held.splice(0)) release();
    },
  );
}

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
