import { networkInterfaces } from 'node:os';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { Controller } from '../../internal/controller/controller.js';
import { type ServerController, isLoopback } from '../../internal/server/index.js';
import { type Harness, TOKEN, json, startServer } from './harness.js';

/** A non-loopback IPv4 address of this machine, if it has one. */
function externalIPv4(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

const READS = ['/api/v1/stacks', '/api/v1/stacks/apps%2Fweb', '/api/v1/runs'];
const WRITES: readonly (readonly [string, string, string | undefined])[] = [
  ['POST', '/api/v1/refresh', undefined],
  ['POST', '/api/v1/stacks/apps%2Fweb/sync', undefined],
  ['PUT', '/api/v1/reconcile', '{"enabled":false}'],
  ['PUT', '/api/v1/stacks/apps%2Fweb/suspend', '{"suspended":true,"reason":"x"}'],
];

function send(base: string, method: string, path: string, body: string | undefined, token?: string) {
  const headers: Record<string, string> = {};
  if (method !== 'GET') headers['content-type'] = 'application/json';
  if (token !== undefined) headers['authorization'] = token;
  return fetch(`${base}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
}

describe('the real Controller', () => {
  it('satisfies ServerController structurally', () => {
    // A compile-time check (tsc --noEmit): this fails to type-check if the shapes drift apart.
    const asServerController = (c: Controller): ServerController => c;
    expect(asServerController).toBeInstanceOf(Function);
  });
});

describe('isLoopback', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.0.0.2', true],
    ['127.255.255.254', true],
    ['::1', true],
    ['0:0:0:0:0:0:0:1', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:127.10.20.30', true],
    ['::FFFF:7F00:1', true],
    ['::1%lo', true],
    ['128.0.0.1', false],
    ['10.0.0.1', false],
    ['192.0.2.2', false],
    ['0.0.0.0', false],
    ['::', false],
    ['::2', false],
    ['::ffff:10.0.0.1', false],
    ['::ffff:7f:1', false],
    ['::127.0.0.1', false],
    ['fe80::1', false],
    ['localhost', false],
    ['127.0.0.1.example.com', false],
    ['', false],
    [undefined, false],
  ])('%s → %s', (address, expected) => {
    expect(isLoopback(address)).toBe(expected);
  });
});

describe('with server.token', () => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  it('every /api/v1 endpoint needs the bearer token; 401 otherwise', async () => {
    h = await startServer({ token: TOKEN });
    for (const path of READS) {
      for (const auth of [undefined, 'Bearer wrong', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`, 'Bearer ']) {
        const response = await send(h.base, 'GET', path, undefined, auth);
        expect([path, auth, response.status]).toEqual([path, auth, 401]);
        expect(response.headers.get('www-authenticate')).toBe('Bearer realm="stackd"');
        const text = await response.text();
        expect(text).not.toContain(TOKEN);
        expect(JSON.parse(text)).toEqual({ error: expect.stringMatching(/API token/) });
      }
      const ok = await send(h.base, 'GET', path, undefined, `Bearer ${TOKEN}`);
      expect([path, ok.status]).toEqual([path, 200]);
    }
    for (const [method, path, body] of WRITES) {
      const refused = await send(h.base, method, path, body);
      expect([path, refused.status]).toEqual([path, 401]);
      const ok = await send(h.base, method, path, body, `bearer ${TOKEN}`);
      expect([path, ok.status]).toEqual([path, method === 'PUT' ? 200 : 202]);
    }
    expect(h.controller.refreshCalls).toEqual(['manual']);
    expect(h.controller.syncCalls).toEqual(['apps/web']);
    expect(h.controller.reconcileCalls).toEqual([false]);
    expect(h.rawLogs.join('\n')).not.toContain(TOKEN);
  });

  it('a refused request is not parsed: an oversized body without the token is 401, not 413', async () => {
    h = await startServer({ token: TOKEN });
    const response = await send(h.base, 'PUT', '/api/v1/reconcile', 'x'.repeat(2 * 1024 * 1024));
    expect(response.status).toBe(401);
  });

  it('/healthz, /readyz and /metrics stay open', async () => {
    h = await startServer({ token: TOKEN });
    for (const path of ['/healthz', '/readyz', '/metrics']) {
      const response = await fetch(`${h.base}${path}`);
      expect([path, response.status]).toEqual([path, 200]);
    }
  });
});

describe('without server.token', () => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  it('a loopback client may read and change', async () => {
    h = await startServer();
    for (const path of READS) expect((await send(h.base, 'GET', path, undefined)).status).toBe(200);
    for (const [method, path, body] of WRITES) {
      expect((await send(h.base, method, path, body)).status).toBe(method === 'PUT' ? 200 : 202);
    }
  });

  const external = externalIPv4();
  (external === undefined ? it.skip : it)(
    'a client on a non-loopback address may read but not change (403, set server.token)',
    async () => {
      h = await startServer({ host: external ?? '' });
      expect(h.base).toContain(external);
      for (const path of READS) expect((await send(h.base, 'GET', path, undefined)).status).toBe(200);
      for (const [method, path, body] of WRITES) {
        const response = await send(h.base, method, path, body);
        expect([path, response.status]).toEqual([path, 403]);
        expect((await json(response))['error']).toMatch(/set server\.token/);
      }
      expect(h.controller.refreshCalls).toEqual([]);
      expect(h.controller.syncCalls).toEqual([]);
      expect(h.controller.reconcileCalls).toEqual([]);
      expect(h.controller.suspendCalls).toEqual([]);
      expect(h.logs.filter((l) => l['event'] === 'api.refused' && l['status'] === 403)).toHaveLength(
        WRITES.length,
      );
    },
  );

  (external === undefined ? it.skip : it)(
    'with server.token, a client on a non-loopback address may change with the token',
    async () => {
      h = await startServer({ host: '0.0.0.0', token: TOKEN });
      const base = h.base.replace('0.0.0.0', external ?? '');
      const response = await send(base, 'POST', '/api/v1/refresh', undefined, `Bearer ${TOKEN}`);
      expect(response.status).toBe(202);
      expect(h.controller.refreshCalls).toEqual(['manual']);
    },
  );
});
