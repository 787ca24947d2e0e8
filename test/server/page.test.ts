/**
 * The status page's server side, over real HTTP: the shell and assets with their security
 * headers, `GET /api/v1/session`, and the event stream. The page itself runs in a real browser in
 * test/e2e/status-page.test.ts.
 */
import { get } from 'node:http';
import { afterEach, describe, expect, it } from '@jest/globals';
import { EventParser, type StreamEvent } from '../../internal/server/ui/sse.js';
import type { StackStatus } from '../../internal/status/index.js';
import { stackStatus } from './fake_controller.js';
import { type Harness, TOKEN, json, startServer } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Reads an event stream, event by event. */
async function openStream(base: string, headers: Record<string, string> = {}) {
  const abort = new AbortController();
  const response = await fetch(`${base}/api/v1/events`, { headers, signal: abort.signal });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const parser = new EventParser();
  const pending: StreamEvent[] = [];
  return {
    response,
    abort: () => {
      abort.abort();
    },
    async next(): Promise<StreamEvent | undefined> {
      while (pending.length === 0) {
        const { value, done } = await reader.read();
        if (done) return undefined;
        pending.push(...parser.push(value));
      }
      return pending.shift();
    },
  };
}

async function gauge(harness: Harness): Promise<number> {
  const text = await harness.metrics.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith('stackd_event_streams '));
  return Number(line?.split(' ')[1]);
}

describe('the status page shell and assets', () => {
  it('serves the page at / and /stacks/<id> with a strict CSP, nosniff and no framing', async () => {
    h = await startServer();
    for (const path of ['/', '/stacks/apps/web', '/stacks/no%2Fsuch']) {
      const response = await fetch(`${h.base}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      const body = await response.text();
      expect(body).toContain('<script type="module" src="/ui/app.js"></script>');
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('strict-transport-security')).toBeNull();
    }
  });

  it('serves the listed assets only, never the sources next to them', async () => {
    h = await startServer();
    const css = await fetch(`${h.base}/ui/app.css`);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    const etag = css.headers.get('etag');
    expect(etag).not.toBeNull();
    // node:http, not fetch: fetch adds `Cache-Control: no-cache` to a conditional request.
    expect(await statusOf(`${h.base}/ui/app.css`, { 'if-none-match': etag! })).toBe(304);
    for (const path of ['/ui/app.ts', '/ui/index.html', '/ui/tsconfig.json', '/ui/../page.ts', '/ui/'])
      expect((await fetch(`${h.base}${path}`)).status).toBe(404);
  });

  it('serves the shell without a token (it holds no data) while the data keeps its guard', async () => {
    h = await startServer({ token: TOKEN });
    expect((await fetch(`${h.base}/`)).status).toBe(200);
    expect((await fetch(`${h.base}/api/v1/stacks`)).status).toBe(401);
    expect((await fetch(`${h.base}/api/v1/events`)).status).toBe(401);
  });
});

describe('GET /api/v1/session', () => {
  it('without server.token: reads open, changes from loopback', async () => {
    h = await startServer({ instance: 'host-a', webUrl: 'https://git.example.test/ops/stacks' });
    expect(await json(await fetch(`${h.base}/api/v1/session`))).toEqual({
      tokenRequired: false,
      authenticated: false,
      canRead: true,
      canWrite: true,
      instance: 'host-a',
      version: '0.1.0-test',
      webUrl: 'https://git.example.test/ops/stacks',
    });
  });

  it('with server.token: nothing without it, everything with it', async () => {
    h = await startServer({ token: TOKEN });
    expect(await json(await fetch(`${h.base}/api/v1/session`))).toMatchObject({
      tokenRequired: true,
      authenticated: false,
      canRead: false,
      canWrite: false,
    });
    const wrong = await fetch(`${h.base}/api/v1/session`, { headers: { authorization: 'Bearer nope' } });
    expect(await json(wrong)).toMatchObject({ authenticated: false, canWrite: false });
    const right = await fetch(`${h.base}/api/v1/session`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const body = await json(right);
    expect(body).toMatchObject({ tokenRequired: true, authenticated: true, canRead: true, canWrite: true });
    expect(JSON.stringify(body)).not.toContain(TOKEN);
  });
});

describe('GET /api/v1/events', () => {
  it('sends the stacks, then each change once, coalesced', async () => {
    h = await startServer();
    const stream = await openStream(h.base);
    expect(stream.response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const first = await stream.next();
    expect(first?.event).toBe('stacks');
    expect((JSON.parse(first!.data) as { stacks: StackStatus[] }).stacks.map((s) => s.id)).toEqual([
      'apps/web',
      'db',
    ]);
    expect(await gauge(h)).toBe(1);

    // Three changes in one burst: one `stack` event for db, one `removed`, one `source`.
    const c = h.controller;
    c.details.set('db', { ...stackStatus('db', { status: 'synced', message: '' }), history: [] });
    c.changed();
    c.details.delete('apps/web');
    c.changed();
    c.revision = 'beef01';
    c.changed();
    const events = [await stream.next(), await stream.next(), await stream.next()];
    expect(events.map((e) => e?.event)).toEqual(['stack', 'removed', 'source']);
    expect(JSON.parse(events[0]!.data)).toMatchObject({ id: 'db', status: 'synced' });
    expect(JSON.parse(events[1]!.data)).toEqual({ id: 'apps/web' });
    expect(JSON.parse(events[2]!.data)).toMatchObject({ revision: 'beef01' });

    // A change that changes nothing the API shows sends nothing; the next real one comes alone.
    c.changed();
    c.runList = [{ ...c.runList[0]!, id: 2 }];
    c.changed();
    const runs = await stream.next();
    expect(runs?.event).toBe('runs');
    expect((JSON.parse(runs!.data) as { runs: { id: number }[] }).runs[0]?.id).toBe(2);

    stream.abort();
    await until(async () => (await gauge(h!)) === 0);
    expect(c.listeners).toBe(0);
  });

  it('ends its streams when the server closes', async () => {
    h = await startServer();
    const stream = await openStream(h.base);
    expect((await stream.next())?.event).toBe('stacks');
    const closing = h.close();
    expect(await stream.next()).toBeUndefined();
    await closing;
    h = undefined;
  });

  it('takes the token when one is configured', async () => {
    h = await startServer({ token: TOKEN });
    const stream = await openStream(h.base, { authorization: `Bearer ${TOKEN}` });
    expect(stream.response.status).toBe(200);
    expect((await stream.next())?.event).toBe('stacks');
    stream.abort();
  });
});

function statusOf(url: string, headers: Record<string, string>): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    get(url, { headers }, (response) => {
      response.resume();
      resolve(response.statusCode);
    }).on('error', reject);
  });
}

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('condition not met within 5 s');
}
