/**
 * Fault: hostile webhook traffic. A flood of badly signed requests (every provider's header,
 * wrong, missing, malformed), bodies over the 1 MiB limit (with and without Content-Length),
 * and well-signed bodies that are not valid push payloads. Nothing may be fetched, every answer
 * must be the right 4xx, and the daemon must stay healthy and still act on a good push.
 */
import { createHmac } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Daemon, githubPush, startDaemon, waitForStack } from '../helpers/daemon.js';
import { isAlive, waitFor } from '../helpers/docker.js';
import { Harness, composeFile } from '../helpers/stackd.js';
import { expectNoStackTrace, logText, rssMiB, sleep } from './fault-helpers.js';

const SECRET = 'fault-webhook-secret';
const MIB = 1024 * 1024;

const sign = (body: string | Buffer, secret = SECRET): string =>
  createHmac('sha256', secret).update(body).digest('hex');

/** The same hex digest with its last digit changed: a near miss. */
const flipLast = (hex: string): string => hex.slice(0, -1) + (hex.endsWith('0') ? '1' : '0');

/** One badly authenticated request, of a kind picked by `i`. */
function badRequest(url: string, i: number): Promise<Response> {
  const body = JSON.stringify({ ref: 'refs/heads/main', after: '0'.repeat(40), n: i });
  const kinds: Record<string, string>[] = [
    { 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${sign(body, `${SECRET}-wrong`)}` },
    { 'x-github-event': 'push' },
    { 'x-github-event': 'push', 'x-hub-signature-256': 'sha256=zz' },
    { 'x-github-event': 'push', 'x-hub-signature-256': `sha1=${sign(body)}` },
    { 'x-gitea-event': 'push', 'x-gitea-signature': sign(`${body} `) },
    { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': `${SECRET}x` },
    { 'x-gogs-event': 'push', 'x-gogs-signature': '' },
    { 'x-forgejo-event': 'push', 'x-forgejo-signature': flipLast(sign(body)).toUpperCase() },
  ];
  const headers = kinds[i % kinds.length] ?? {};
  return fetch(`${url}/api/v1/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
}

/** A POST through node:http, optionally chunked (no Content-Length): status and body. */
function post(
  url: string,
  body: Buffer,
  headers: Record<string, string>,
  chunked: boolean,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/api/v1/webhook`,
      {
        method: 'POST',
        headers: { ...headers, ...(chunked ? {} : { 'content-length': String(body.length) }) },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body: text });
        });
      },
    );
    // The server may answer before the whole body is sent: a write error after the answer is
    // fine, a connection lost before it is a failure (never a hang).
    let answered = false;
    req.on('response', () => (answered = true));
    req.on('error', (error) => {
      const code = (error as NodeJS.ErrnoException).code;
      if (!answered || (code !== 'EPIPE' && code !== 'ECONNRESET'))
        reject(new Error(`connection lost before an answer: ${error.message}`));
    });
    const step = 256 * 1024;
    for (let at = 0; at < body.length; at += step) req.write(body.subarray(at, at + step));
    req.end();
  });
}

describe('fault: hostile webhook traffic', () => {
  let h: Harness;
  let d: Daemon;

  beforeAll(async () => {
    h = await Harness.create('hook');
    await h.commit({ 'w/compose.yaml': composeFile({ x: {} }) });
    d = await startDaemon(h, { STACKD_WEBHOOK_SECRET: SECRET, STACKD_SOURCE_POLL_INTERVAL: '0' });
    await waitForStack(d, h.id('w'), 'synced', (s) => s.status === 'synced');
  });

  afterAll(async () => {
    await d.stop().catch(() => undefined);
    await h.cleanup();
  });

  it('500 badly signed requests: every one 401, nothing fetched, every one counted as rejected', async () => {
    const fetches = await d.metric('stackd_source_fetch_total');
    const rejected = await d.metric('stackd_webhook_requests_total', { result: 'rejected' });
    h.server.resetRequests();
    const started = Date.now();
    const statuses: number[] = [];
    for (let batch = 0; batch < 10; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 50 }, (_, i) => badRequest(d.url, batch * 50 + i)),
      );
      for (const a of answers) {
        statuses.push(a.status);
        await a.arrayBuffer();
      }
    }
    const took = Date.now() - started;
    expect(statuses).toHaveLength(500);
    expect(statuses.filter((s) => s !== 401)).toEqual([]);
    expect(took).toBeLessThan(30_000);
    await sleep(500);
    expect(await d.metric('stackd_source_fetch_total')).toBe(fetches);
    expect(h.server.requests).toEqual([]);
    expect((await d.metric('stackd_webhook_requests_total', { result: 'rejected' })) - rejected).toBe(500);
    expect((await d.get('/healthz')).status).toBe(200);
  });

  it('bodies over 1 MiB are refused with 413, signed or not, with or without Content-Length', async () => {
    const big = Buffer.alloc(2 * MIB, 0x20);
    const signed = {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-hub-signature-256': `sha256=${sign(big)}`,
    };
    const unsigned = { 'content-type': 'application/json', 'x-github-event': 'push' };
    const huge = Buffer.alloc(64 * MIB, 0x20);
    // The huge chunked body several times: the server must read the rest before it answers and
    // closes, or the client's writes meet a closed socket and the 413 is lost (about 1 in 13
    // tries before the fix, on 2 busy cores).
    for (const [headers, body, chunked] of [
      [signed, big, false],
      [signed, big, true],
      [unsigned, big, false],
      ...Array.from({ length: 8 }, () => [unsigned, huge, true] as const),
    ] as const) {
      const answer = await post(d.url, body, headers, chunked);
      expect(answer.status).toBe(413);
      expect(JSON.parse(answer.body)).toEqual({ error: expect.stringContaining('larger than') });
    }
    expect(await rssMiB(d.pid)).toBeLessThan(300);
  });

  it('well-signed bodies that are not push payloads: 400 with the reason, nothing fetched', async () => {
    const fetches = await d.metric('stackd_source_fetch_total');
    const cases: [string, string, RegExp][] = [
      ['application/json', '{"ref": "refs/heads/main", ', /malformed JSON/],
      ['application/json', '', /malformed JSON/],
      ['application/json', '\u0000\u00ff not json', /malformed JSON/],
      ['application/json', '["refs/heads/main"]', /not a JSON object/],
      ['application/json', '{"after": "abc"}', /no ref/],
      ['application/x-www-form-urlencoded', 'nothing=here', /without a payload/],
      ['application/x-www-form-urlencoded', 'payload=%7Bbroken', /malformed JSON/],
    ];
    for (const [type, body, reason] of cases) {
      const answer = await fetch(`${d.url}/api/v1/webhook`, {
        method: 'POST',
        headers: {
          'content-type': type,
          'x-github-event': 'push',
          'x-hub-signature-256': `sha256=${sign(body)}`,
        },
        body,
      });
      expect([answer.status, body]).toEqual([400, body]);
      expect(((await answer.json()) as { error: string }).error).toMatch(reason);
    }
    await sleep(500);
    expect(await d.metric('stackd_source_fetch_total')).toBe(fetches);
  });

  it('afterwards the daemon is healthy, bounded in memory, and a good push still deploys a commit', async () => {
    expect(await isAlive(d.pid)).toBe(true);
    expect((await d.get('/healthz')).status).toBe(200);
    expect((await d.get('/readyz')).status).toBe(200);
    const rev = await h.commit({ 'w/compose.yaml': composeFile({ x: { image: 2 } }) });
    const answer = await githubPush(d.url, SECRET, 'refs/heads/main');
    expect(answer.status).toBe(202);
    await waitForStack(
      d,
      h.id('w'),
      'synced at the pushed revision',
      (s) => s.status === 'synced' && s.synced?.revision === rev,
    );
    await waitFor('memory', async () => (await rssMiB(d.pid)) < 300, 5000);
    expectNoStackTrace(logText(d));
  });
});
