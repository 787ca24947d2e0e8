/**
 * Fault: the Git server is down (503), stalls past the fetch timeout, or answers garbage (a small
 * front server in this file, in front of the real Git server). Every time the last good desired
 * state is kept, the stacks stay synced, the failure is counted, and once the fault clears a new
 * commit is picked up.
 */
import { randomBytes } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Daemon, startDaemon, waitForStack } from '../helpers/daemon.js';
import { isAlive, waitFor } from '../helpers/docker.js';
import { Harness, composeFile } from '../helpers/stackd.js';
import { expectNoStackTrace, logText, refresh, rssMiB, sleep } from './fault-helpers.js';

type FrontMode = 'pass' | 'garbage-refs' | 'garbage-pack' | 'endless-503' | 'endless-html';

/** A reverse proxy to the Git server that can answer garbage instead. */
interface Front {
  readonly url: string;
  mode: FrontMode;
  close(): Promise<void>;
}

async function startFront(target: string): Promise<Front> {
  const upstream = new URL(target);
  const state: { mode: FrontMode } = { mode: 'pass' };
  const garbage = (res: ServerResponse, type: string): void => {
    res.writeHead(200, { 'Content-Type': type });
    res.end(Buffer.concat([Buffer.from('<html>not git</html>\n'), randomBytes(64 * 1024)]));
  };
  /** An answer that never ends: 1 MiB chunks as fast as the client takes them. */
  const endless = (res: ServerResponse, status: number, type: string): void => {
    const chunk = Buffer.alloc(1024 * 1024, 'garbage ');
    res.writeHead(status, { 'Content-Type': type });
    const pump = (): void => {
      while (!res.destroyed && res.write(chunk)) {
        // until the socket buffer is full
      }
    };
    res.on('drain', pump);
    res.on('close', () => res.removeListener('drain', pump));
    pump();
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/';
    if (state.mode === 'endless-503' || state.mode === 'endless-html') {
      req.resume();
      if (state.mode === 'endless-503') endless(res, 503, 'text/plain');
      else endless(res, 200, 'text/html');
      return;
    }
    if (state.mode === 'garbage-refs' && path.includes('/info/refs')) {
      req.resume();
      garbage(res, 'application/x-git-upload-pack-advertisement');
      return;
    }
    if (state.mode === 'garbage-pack' && path.endsWith('/git-upload-pack')) {
      req.resume();
      garbage(res, 'application/x-git-upload-pack-result');
      return;
    }
    const forward = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path,
        headers: { ...req.headers, host: upstream.host },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${upstream.pathname}`,
    get mode() {
      return state.mode;
    },
    set mode(mode: FrontMode) {
      state.mode = mode;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

describe('fault: the Git server down, stalled, or answering garbage', () => {
  let h: Harness;
  let front: Front;
  let d: Daemon;
  let good: string;

  const failures = (): Promise<number> => d.metric('stackd_source_fetch_total', { result: 'failure' });

  /** What the log says about the latest failed fetch (its reason, or its whole message). */
  const lastFetchFailure = (): string => {
    const line = d.logs.findLast(
      (l) => (l['event'] === 'source.fetch' && l['result'] === 'failure') || l['event'] === 'source.retry',
    );
    const text = line?.['reason'] ?? line?.['message'];
    return typeof text === 'string' ? text : '';
  };

  /** The fault is in place and a new commit waits: a refresh fails and changes nothing. */
  async function expectKept(what: string): Promise<string> {
    const pending = await h.commit({ 'b/compose.yaml': composeFile({ y: {} }), [`b/${what}.txt`]: what });
    const before = await failures();
    const ids = { a: await h.ids('a'), b: await h.ids('b') };
    await refresh(d);
    await waitFor(`a ${what} fetch failure counted`, async () => (await failures()) > before, 20_000);
    const all = await d.stacks();
    expect(all.revision).toBe(good);
    for (const s of all.stacks) {
      expect(s.status).toBe('synced');
      expect(s.synced?.revision).toBe(good);
    }
    expect((await d.get('/readyz')).status).toBe(200);
    expect(await isAlive(d.pid)).toBe(true);
    expect({ a: await h.ids('a'), b: await h.ids('b') }).toEqual(ids);
    return pending;
  }

  /** The fault cleared: a refresh picks up the commit made during it, and it is applied. */
  async function expectRecovered(pending: string): Promise<void> {
    await refresh(d);
    await waitFor('the new revision', async () => (await d.stacks()).revision === pending, 30_000);
    for (const name of ['a', 'b']) {
      await waitForStack(
        d,
        h.id(name),
        'synced at the new revision',
        (s) => s.status === 'synced' && s.synced?.revision === pending,
      );
    }
    good = pending;
  }

  beforeAll(async () => {
    h = await Harness.create('git');
    front = await startFront(h.server.url('stacks'));
    good = await h.commit({
      'a/compose.yaml': composeFile({ x: {} }),
      'b/compose.yaml': composeFile({ y: {} }),
    });
    d = await startDaemon(h, {
      STACKD_SOURCE_URL: front.url,
      STACKD_SOURCE_POLL_INTERVAL: '0',
      STACKD_SOURCE_FETCH_TIMEOUT: '2s',
    });
    for (const name of ['a', 'b']) await waitForStack(d, h.id(name), 'synced', (s) => s.status === 'synced');
  });

  afterAll(async () => {
    h.server.setFailing(false);
    h.server.setStalled(false);
    await d.stop().catch(() => undefined);
    await front.close();
    await h.cleanup();
  });

  it('down (503 on every request): last good state kept, failure counted; back up, a new commit is applied', async () => {
    h.server.setFailing(true);
    let pending: string;
    try {
      pending = await expectKept('down');
      expect(lastFetchFailure()).toMatch(/503/);
    } finally {
      h.server.setFailing(false);
    }
    await expectRecovered(pending);
  });

  it('stalled past the fetch timeout (2 s): the fetch gives up with a timeout, the state is kept; then recovers', async () => {
    h.server.setStalled(true);
    let pending: string;
    try {
      const started = Date.now();
      pending = await expectKept('stalled');
      expect(Date.now() - started).toBeLessThan(15_000);
      expect(lastFetchFailure()).toMatch(/timed out after 2000 ms/);
    } finally {
      h.server.setStalled(false);
    }
    await expectRecovered(pending);
  });

  it('garbage instead of a ref advertisement: the state is kept; then recovers', async () => {
    front.mode = 'garbage-refs';
    let pending: string;
    try {
      pending = await expectKept('garbage-refs');
      expect(lastFetchFailure()).not.toBe('');
    } finally {
      front.mode = 'pass';
    }
    await expectRecovered(pending);
  });

  it('a valid ref advertisement but a garbage pack: the state is kept, the local store not poisoned; then recovers', async () => {
    front.mode = 'garbage-pack';
    let pending: string;
    try {
      pending = await expectKept('garbage-pack');
      expect(lastFetchFailure()).not.toBe('');
    } finally {
      front.mode = 'pass';
    }
    await expectRecovered(pending);
  });

  it('the daemon stayed up through all of it and logged no stack trace', async () => {
    expect(await isAlive(d.pid)).toBe(true);
    expect((await d.get('/healthz')).status).toBe(200);
    expectNoStackTrace(logText(d));
  });

  it('a restart while the server is down: the last good state comes from the local store, ready and synced; then recovers', async () => {
    expect(await d.stop()).toBe(0);
    h.server.setFailing(true);
    let pending: string;
    try {
      d = await startDaemon(h, {
        STACKD_SOURCE_URL: front.url,
        STACKD_SOURCE_POLL_INTERVAL: '0',
        STACKD_SOURCE_FETCH_TIMEOUT: '2s',
      });
      await waitFor('a failed fetch counted', async () => (await failures()) >= 1, 20_000);
      for (const name of ['a', 'b']) {
        await waitForStack(
          d,
          h.id(name),
          'synced',
          (s) => s.status === 'synced' && s.synced?.revision === good,
        );
      }
      await waitFor('readyz 200', async () => (await d.get('/readyz')).status === 200, 10_000);
      pending = await expectKept('restarted');
    } finally {
      h.server.setFailing(false);
    }
    await expectRecovered(pending);
    expectNoStackTrace(logText(d));
  });
});

describe('fault: the Git server answers an endless body', () => {
  let h: Harness;
  let front: Front;
  let d: Daemon;

  beforeAll(async () => {
    h = await Harness.create('gitendless');
    front = await startFront(h.server.url('stacks'));
    await h.commit({ 'e/compose.yaml': composeFile({ x: {} }) });
    d = await startDaemon(h, {
      STACKD_SOURCE_URL: front.url,
      STACKD_SOURCE_POLL_INTERVAL: '0',
      STACKD_SOURCE_FETCH_TIMEOUT: '10s',
    });
    await waitForStack(d, h.id('e'), 'synced', (s) => s.status === 'synced');
  });

  afterAll(async () => {
    await d.stop().catch(() => undefined);
    await front.close();
    await h.cleanup();
  });

  it.each(['endless-503', 'endless-html'] as const)(
    '%s: only a preview is read, memory stays bounded, the fetch fails fast; then recovers',
    async (mode) => {
      const good = (await d.stacks()).revision;
      const pending = await h.commit({ [`e/${mode}.txt`]: mode });
      const before = await d.metric('stackd_source_fetch_total', { result: 'failure' });
      front.mode = mode;
      let peak = 0;
      try {
        const started = Date.now();
        await refresh(d);
        while (Date.now() - started < 4000) {
          peak = Math.max(peak, await rssMiB(d.pid));
          await sleep(50);
        }
        expect(peak).toBeLessThan(300);
        expect(await d.metric('stackd_source_fetch_total', { result: 'failure' })).toBeGreaterThan(before);
      } finally {
        front.mode = 'pass';
      }
      const all = await d.stacks();
      expect(all.revision).toBe(good);
      expect(all.stacks.map((s) => s.status)).toEqual(['synced']);
      await refresh(d);
      await waitForStack(
        d,
        h.id('e'),
        'synced at the new revision',
        (s) => s.status === 'synced' && s.synced?.revision === pending,
        30_000,
      );
      expect(await isAlive(d.pid)).toBe(true);
      expectNoStackTrace(logText(d));
    },
  );
});
