import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';

import { realClock } from '../../../pkg/clock/index.js';
import { FakeClock } from '../../../pkg/clock/fake.js';
import { freePort } from '../../../test/helpers/ports.js';
import { startReceiver, type Receiver } from '../../../test/helpers/receiver.js';
import type { DeliveryResult, OutboundRequest } from '../types.js';
import { Delivery, type DeliveryDetail } from './deliver.js';

type Result = [string, DeliveryResult, DeliveryDetail];

function post(url: string, body = '{"hello":1}'): OutboundRequest {
  return { url, method: 'POST', headers: { 'Content-Type': 'application/json' }, body };
}

/** Resolves once `condition` holds, checking after each turn of the event loop (no fixed sleeps). */
async function until(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met');
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

let receiver: Receiver;
let results: Result[];

function delivery(options: Partial<ConstructorParameters<typeof Delivery>[0]> = {}): Delivery {
  return new Delivery({
    clock: realClock,
    timeoutMs: 2000,
    retries: 3,
    backoff: { baseMs: 5, maxMs: 50 },
    onResult: (target, result, detail) => results.push([target, result, detail]),
    ...options,
  });
}

beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver.close();
});
beforeEach(() => {
  receiver.requests.length = 0;
  receiver.respond(() => ({ status: 200, body: '{}' }));
  results = [];
});

describe('Delivery', () => {
  it('retries a 500 and delivers once', async () => {
    receiver.respond((req) =>
      receiver.requests.indexOf(req) === 0 ? { status: 500 } : { status: 200, body: '{}' },
    );
    const d = delivery();
    d.send('hook', post(`${receiver.url}/a?token=abc`));
    await d.idle();
    expect(receiver.requests).toHaveLength(2);
    expect(receiver.requests.map((r) => [r.method, r.path, r.body])).toEqual([
      ['POST', '/a?token=abc', '{"hello":1}'],
      ['POST', '/a?token=abc', '{"hello":1}'],
    ]);
    expect(receiver.requests[1]!.headers['content-type']).toBe('application/json');
    expect(results).toEqual([['hook', 'sent', { attempts: 2, status: 200 }]]);
  });

  it('does not retry a 4xx', async () => {
    receiver.respond(() => ({ status: 404, body: '{}' }));
    const d = delivery();
    d.send('hook', post(`${receiver.url}/secret-path`));
    await d.idle();
    expect(receiver.requests).toHaveLength(1);
    expect(results).toEqual([['hook', 'failed', { attempts: 1, status: 404, error: 'HTTP 404' }]]);
  });

  it('gives up after the retries: 1 + retries attempts', async () => {
    receiver.respond(() => ({ status: 503 }));
    const d = delivery({ retries: 2 });
    d.send('hook', post(`${receiver.url}/x`));
    await d.idle();
    expect(receiver.requests).toHaveLength(3);
    expect(results).toEqual([['hook', 'failed', { attempts: 3, status: 503, error: 'HTTP 503' }]]);
  });

  it('times out a hanging target while another target is delivered meanwhile', async () => {
    receiver.respond((req) => (req.path.startsWith('/slow') ? 'hang' : { status: 200, body: '{}' }));
    const d = delivery({ timeoutMs: 200, retries: 1 });
    d.send('slow', post(`${receiver.url}/slow/1`));
    d.send('slow', post(`${receiver.url}/slow/2`));
    d.send('fast', post(`${receiver.url}/fast`));
    await until(() => results.length >= 1);
    expect(results[0]).toEqual(['fast', 'sent', { attempts: 1, status: 200 }]);
    await d.idle();
    expect(results.slice(1)).toEqual([
      ['slow', 'failed', { attempts: 2, error: 'timed out after 0.2 s' }],
      ['slow', 'failed', { attempts: 2, error: 'timed out after 0.2 s' }],
    ]);
    // One at a time per target, in order: /slow/2 only after /slow/1 gave up.
    expect(receiver.requests.filter((r) => r.path.startsWith('/slow')).map((r) => r.path)).toEqual([
      '/slow/1',
      '/slow/1',
      '/slow/2',
      '/slow/2',
    ]);
  });

  it('says "connection refused" without the URL', async () => {
    const port = await freePort();
    const d = delivery({ retries: 0 });
    d.send('down', post(`http://127.0.0.1:${port}/hook/tok3n`));
    await d.idle();
    expect(results).toEqual([['down', 'failed', { attempts: 1, error: 'connection refused' }]]);
  });

  it('does not retry a request fetch refuses (bad URL, non-Latin-1 header, blocked port)', async () => {
    const d = delivery();
    d.send('a', post('not a url with tok3n'));
    d.send('b', { ...post(`${receiver.url}/h`), headers: { Title: 'münchen — ok' } });
    d.send('c', post('http://127.0.0.1:1/tok3n'));
    await d.idle();
    expect(results.sort()).toEqual([
      ['a', 'failed', { attempts: 1, error: 'invalid URL' }],
      ['b', 'failed', { attempts: 1, error: 'invalid request' }],
      ['c', 'failed', { attempts: 1, error: 'port not allowed by fetch' }],
    ]);
    expect(receiver.requests).toHaveLength(0);
  });

  it('reads a bounded part of a large response', async () => {
    receiver.respond(() => ({ status: 200, body: 'x'.repeat(1024 * 1024) }));
    const d = delivery();
    d.send('big', post(`${receiver.url}/big`));
    await d.idle();
    expect(results).toEqual([['big', 'sent', { attempts: 1, status: 200 }]]);
  });

  it('drops the oldest queued request beyond the queue limit', async () => {
    receiver.respond(() => 'hang');
    const d = delivery({ timeoutMs: 60_000, queueLimit: 2 });
    for (let i = 1; i <= 4; i++) d.send('t', post(`${receiver.url}/${i}`));
    expect(results).toEqual([['t', 'failed', { attempts: 0, error: 'queue full' }]]);
    await receiver.waitFor((all) => all.length === 1);
    d.close();
    await d.idle();
    expect(results.map((r) => r[2].error)).toEqual(['queue full', 'closed', 'closed', 'closed']);
    expect(receiver.requests.map((r) => r.path)).toEqual(['/1']);
    d.send('t', post(`${receiver.url}/5`));
    expect(results[4]).toEqual(['t', 'failed', { attempts: 0, error: 'closed' }]);
  });

  it('never throws when onResult does', async () => {
    const d = new Delivery({
      clock: realClock,
      timeoutMs: 1000,
      retries: 0,
      backoff: { baseMs: 1, maxMs: 1 },
      onResult: () => {
        throw new Error('boom');
      },
    });
    d.send('t', post(`${receiver.url}/ok`));
    d.send('t', post(`${receiver.url}/ok2`));
    await d.idle();
    expect(receiver.requests).toHaveLength(2);
  });
});

describe('Delivery on a FakeClock', () => {
  it('backs off base · 2^n between attempts', async () => {
    receiver.respond(() => ({ status: 500 }));
    const clock = new FakeClock();
    const d = delivery({ clock, timeoutMs: 10_000, retries: 3, backoff: { baseMs: 1000, maxMs: 3000 } });
    d.send('hook', post(`${receiver.url}/b`));
    for (const [n, wait] of [
      [1, 1000],
      [2, 2000],
      [3, 3000],
    ] as const) {
      await receiver.waitFor((all) => all.length === n);
      await until(() => clock.pendingDelays().join() === String(wait)); // the attempt's timeout is cleared
      await clock.advanceAsync(wait - 1);
      expect(receiver.requests).toHaveLength(n);
      await clock.advanceAsync(1);
    }
    await d.idle();
    expect(receiver.requests).toHaveLength(4);
    expect(results).toEqual([['hook', 'failed', { attempts: 4, status: 500, error: 'HTTP 500' }]]);
  });

  it('honours Retry-After on 429 and 503, capped by backoff.maxMs', async () => {
    const clock = new FakeClock();
    receiver.respond((req) => {
      const index = receiver.requests.indexOf(req);
      if (index === 0) return { status: 429, headers: { 'Retry-After': '7' } };
      if (index === 1) return { status: 503, headers: { 'Retry-After': '3600' } };
      return { status: 200, body: '{}' };
    });
    const d = delivery({ clock, timeoutMs: 10_000, retries: 3, backoff: { baseMs: 1000, maxMs: 30_000 } });
    d.send('hook', post(`${receiver.url}/r`));
    await receiver.waitFor((all) => all.length === 1);
    await until(() => clock.pendingDelays().join() === '7000');
    await clock.advanceAsync(6999);
    expect(receiver.requests).toHaveLength(1);
    await clock.advanceAsync(1);
    await receiver.waitFor((all) => all.length === 2);
    await until(() => clock.pendingDelays().join() === '30000');
    await clock.advanceAsync(30_000);
    await d.idle();
    expect(receiver.requests).toHaveLength(3);
    expect(results).toEqual([['hook', 'sent', { attempts: 3, status: 200 }]]);
  });

  it('times out an attempt after timeoutMs on the clock', async () => {
    const clock = new FakeClock();
    receiver.respond(() => 'hang');
    const d = delivery({ clock, timeoutMs: 10_000, retries: 0 });
    d.send('hook', post(`${receiver.url}/h`));
    await receiver.waitFor((all) => all.length === 1);
    await clock.advanceAsync(10_000);
    await d.idle();
    expect(results).toEqual([['hook', 'failed', { attempts: 1, error: 'timed out after 10 s' }]]);
  });
});
