/**
 * DNS rebinding and CSRF, against the real server on loopback: a request is answered only when
 * its Host names this stackd, its Origin (if any) is the server's own or allowed, and a change
 * says `Content-Type: application/json`. Requests are made with node:http so that Host and
 * Origin are exactly what a browser would send.
 */
import { request } from 'node:http';
import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from '@jest/globals';
import { GITLAB_TOKEN, type Harness, SECRET, hmacHex, startServer } from './harness.js';

interface Answer {
  readonly status: number;
  readonly body: string;
}

function send(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<Answer> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method,
        headers,
        setHost: !('host' in headers),
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body: text });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const JSON_TYPE = { 'content-type': 'application/json' };
const READS = [
  '/api/v1/stacks',
  '/api/v1/stacks/apps%2Fweb',
  '/api/v1/runs',
  '/metrics',
  '/healthz',
  '/readyz',
];
const WRITES: readonly (readonly [string, string, string])[] = [
  ['POST', '/api/v1/refresh', ''],
  ['POST', '/api/v1/stacks/apps%2Fweb/sync', ''],
  ['PUT', '/api/v1/reconcile', '{"enabled":false}'],
  ['PUT', '/api/v1/stacks/apps%2Fweb/suspend', '{"suspended":true,"reason":"x"}'],
];

describe('the API answers only its own origin', () => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });
  const own = (): string => new URL(h.base).host;
  const changed = (): number =>
    h.controller.refreshCalls.length +
    h.controller.syncCalls.length +
    h.controller.reconcileCalls.length +
    h.controller.suspendCalls.length;

  it('Host: attacker.example (DNS rebinding) is refused with 421 on every endpoint', async () => {
    h = await startServer();
    for (const path of READS) {
      const answer = await send(h.base, 'GET', path, { host: 'attacker.example' });
      expect([path, answer.status]).toEqual([path, 421]);
      expect(JSON.parse(answer.body)).toEqual({ error: expect.stringMatching(/server\.allowedHosts/) });
    }
    for (const [method, path, body] of WRITES) {
      const answer = await send(
        h.base,
        method,
        path,
        { ...JSON_TYPE, host: `attacker.example:${new URL(h.base).port}` },
        body,
      );
      expect([path, answer.status]).toEqual([path, 421]);
    }
    expect(changed()).toBe(0);
    expect(h.logs.filter((l) => l['event'] === 'api.refused' && l['status'] === 421)).toHaveLength(
      READS.length + WRITES.length,
    );
  });

  it('its own names are answered: the listen address, localhost, loopback, this host, server.allowedHosts', async () => {
    h = await startServer({ allowedHosts: ['stackd.example.com'] });
    const port = new URL(h.base).port;
    for (const host of [
      own(),
      `localhost:${port}`,
      `127.0.0.2:${port}`,
      `[::1]:${port}`,
      `${hostname()}:${port}`,
      'stackd.example.com',
      `STACKD.example.com.:${port}`,
    ]) {
      const answer = await send(h.base, 'GET', '/api/v1/stacks', { host });
      expect([host, answer.status]).toEqual([host, 200]);
    }
  });

  it('a cross-origin Origin is refused on GET and POST (403); the page of the API itself is answered', async () => {
    h = await startServer();
    for (const origin of ['https://attacker.example', 'null', 'http://127.0.0.1:1']) {
      const read = await send(h.base, 'GET', '/api/v1/stacks', { origin });
      expect([origin, read.status]).toEqual([origin, 403]);
      expect(JSON.parse(read.body)).toEqual({ error: expect.stringMatching(/server\.allowedOrigins/) });
      for (const [method, path, body] of WRITES) {
        const write = await send(h.base, method, path, { ...JSON_TYPE, origin }, body);
        expect([origin, path, write.status]).toEqual([origin, path, 403]);
      }
    }
    expect(changed()).toBe(0);
    // Same origin: what the status page (served by stackd itself) sends.
    expect((await send(h.base, 'GET', '/api/v1/stacks', { origin: `http://${own()}` })).status).toBe(200);
    const same = await send(h.base, 'POST', '/api/v1/refresh', { ...JSON_TYPE, origin: `http://${own()}` });
    expect(same.status).toBe(202);
    expect(h.controller.refreshCalls).toEqual(['manual']);
  });

  it('server.allowedOrigins lets a named page in', async () => {
    h = await startServer({ allowedOrigins: ['https://grafana.example.com'] });
    expect(
      (await send(h.base, 'GET', '/api/v1/stacks', { origin: 'https://grafana.example.com' })).status,
    ).toBe(200);
    expect(
      (await send(h.base, 'GET', '/api/v1/stacks', { origin: 'https://other.example.com' })).status,
    ).toBe(403);
  });

  it('a change without Content-Type: application/json (a browser simple request) is refused with 415', async () => {
    h = await startServer();
    for (const type of [
      undefined,
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
    ]) {
      for (const [method, path] of WRITES) {
        const headers: Record<string, string> = type === undefined ? {} : { 'content-type': type };
        const answer = await send(
          h.base,
          method,
          path,
          headers,
          type === undefined ? undefined : 'enabled=false',
        );
        expect([type, path, answer.status]).toEqual([type, path, 415]);
        expect(JSON.parse(answer.body)).toEqual({
          error: expect.stringMatching(/Content-Type: application\/json/),
        });
      }
    }
    expect(changed()).toBe(0);
    // With it, an empty body is fine (what `stackd refresh` sends is `{}`).
    expect((await send(h.base, 'POST', '/api/v1/refresh', JSON_TYPE)).status).toBe(202);
    expect(
      (
        await send(
          h.base,
          'POST',
          '/api/v1/refresh',
          { 'content-type': 'application/json; charset=utf-8' },
          '{}',
        )
      ).status,
    ).toBe(202);
  });

  it('the webhook keeps answering forges under any Host name: its signature authenticates it', async () => {
    h = await startServer({ webhookSecret: SECRET, gitlabToken: GITLAB_TOKEN });
    const body = JSON.stringify({ ref: 'refs/heads/main', after: 'abc' });
    const answer = await send(
      h.base,
      'POST',
      '/api/v1/webhook',
      {
        host: 'stackd.public.example',
        'x-hub-signature-256': `sha256=${hmacHex(SECRET, body)}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      new URLSearchParams({ payload: body }).toString(),
    );
    expect(answer.status).toBe(401); // signed over the JSON, sent form-encoded: still checked, never bypassed
    const ok = await send(
      h.base,
      'POST',
      '/api/v1/webhook',
      {
        host: 'stackd.public.example',
        'x-hub-signature-256': `sha256=${hmacHex(SECRET, body)}`,
        ...JSON_TYPE,
      },
      body,
    );
    expect(ok.status).toBe(202);
  });
});
