import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { type Harness, json, startServer } from './harness.js';

describe('/api/v1 (no token, loopback client)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startServer();
  });
  afterEach(async () => {
    await h.close();
  });

  it('GET /api/v1/stacks answers the StacksResponse', async () => {
    const response = await fetch(`${h.base}/api/v1/stacks`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = await json(response);
    expect(body).toEqual(h.controller.stacks());
    expect(body['revision']).toBe('c0ffee');
    expect(body['reconcileEnabled']).toBe(true);
    expect((body['stacks'] as unknown[]).length).toBe(2);
  });

  it('GET /api/v1/stacks/{id} decodes %2F within one path segment and adds history', async () => {
    const response = await fetch(`${h.base}/api/v1/stacks/apps%2Fweb`);
    expect(response.status).toBe(200);
    const body = await json(response);
    expect(body['id']).toBe('apps/web');
    expect(body['history']).toEqual([]);
    expect(body['synced']).toEqual(h.controller.stack('apps/web')?.synced);
  });

  it('GET /api/v1/stacks/{id} of an unknown stack is 404 with a JSON error', async () => {
    const response = await fetch(`${h.base}/api/v1/stacks/nope`);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect((await json(response))['error']).toMatch(/no stack "nope"/);
  });

  it('an unencoded slash in a stack id is 404 with a hint to URL-encode it', async () => {
    const response = await fetch(`${h.base}/api/v1/stacks/apps/web`);
    expect(response.status).toBe(404);
    expect((await json(response))['error']).toMatch(/URL-encoded \(apps%2Fweb\)/);
  });

  it('an unknown endpoint is 404 JSON', async () => {
    const response = await fetch(`${h.base}/api/v2/nothing?token=x`);
    expect(response.status).toBe(404);
    const body = await json(response);
    expect(body['error']).toBe('no such endpoint: GET /api/v2/nothing');
  });

  it('POST /api/v1/refresh answers 202 without waiting for the fetch', async () => {
    // The fake's refresh never settles: a 202 proves the handler does not await it.
    const response = await fetch(`${h.base}/api/v1/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    expect(response.status).toBe(202);
    expect(await json(response)).toEqual({ accepted: true });
    expect(h.controller.refreshCalls).toEqual(['manual']);
  });

  it('POST /api/v1/refresh still answers 202 when the fetch fails', async () => {
    h.controller.refreshResult = () => Promise.reject(new Error('fetch failed'));
    const response = await fetch(`${h.base}/api/v1/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    expect(response.status).toBe(202);
    expect(h.controller.refreshCalls).toEqual(['manual']);
  });

  it('POST /api/v1/stacks/{id}/sync is 202 for a known stack and 404 for an unknown one', async () => {
    const ok = await fetch(`${h.base}/api/v1/stacks/apps%2Fweb/sync`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    expect(ok.status).toBe(202);
    expect(await json(ok)).toEqual({ accepted: true, stack: 'apps/web', prune: false });
    const missing = await fetch(`${h.base}/api/v1/stacks/ghost/sync`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    expect(missing.status).toBe(404);
    expect((await json(missing))['error']).toMatch(/no stack "ghost"/);
    expect(h.controller.syncCalls).toEqual(['apps/web']);
  });

  it('PUT /api/v1/stacks/{id}/suspend suspends with a reason and resumes; a bad body is 400, an unknown stack 404', async () => {
    const put = (id: string, body: string) =>
      fetch(`${h.base}/api/v1/stacks/${id}/suspend`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body,
      });
    const on = await put('apps%2Fweb', '{"suspended": true, "reason": "db migration"}');
    expect(on.status).toBe(200);
    expect(await json(on)).toEqual({
      stack: 'apps/web',
      suspended: { reason: 'db migration', by: 'api', at: '2024-05-01T10:00:00.000Z' },
    });
    const off = await put('apps%2Fweb', '{"suspended": false}');
    expect(await json(off)).toEqual({ stack: 'apps/web', suspended: null });
    for (const bad of [
      '{}',
      '{"suspended": "yes"}',
      '{"suspended": true, "reason": ""}',
      '{"suspended": false, "reason": "x"}',
      '{"suspended": true, "why": "x"}',
    ])
      expect((await put('apps%2Fweb', bad)).status).toBe(400);
    expect((await put('ghost', '{"suspended": true}')).status).toBe(404);
    expect(h.controller.suspendCalls).toEqual([
      ['apps/web', 'db migration'],
      ['apps/web', null],
    ]);
  });

  it('POST /api/v1/stacks/{id}/sync with {"prune": true} asks for a one-off removal; a bad body is 400', async () => {
    const post = (body: string) =>
      fetch(`${h.base}/api/v1/stacks/db/sync`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
    const ok = await post('{"prune":true}');
    expect(ok.status).toBe(202);
    expect(await json(ok)).toEqual({ accepted: true, stack: 'db', prune: true });
    const bad = await post('{"prune":"yes"}');
    expect(bad.status).toBe(400);
    expect((await json(bad))['error']).toMatch(/"prune": true/);
    expect(await (await post('[]')).json()).toEqual({ error: 'expected a JSON body {} or {"prune": true}' });
    expect(h.controller.syncCalls).toEqual(['db']);
    expect(h.controller.pruneCalls).toEqual(['db']);
  });

  it('GET /api/v1/stacks answers the source with its last fetch outcome', async () => {
    h.controller.source = {
      ...h.controller.source,
      lastError: 'fetching https://git.example.test/ops/stacks.git failed: HTTP 401',
      lastErrorAt: '2024-05-01T10:05:00.000Z',
      failingSince: '2024-05-01T10:01:00.000Z',
    };
    const body = await json(await fetch(`${h.base}/api/v1/stacks`));
    expect(body['source']).toEqual({
      url: 'https://git.example.test/ops/stacks.git',
      branch: 'main',
      lastSuccessAt: '2024-05-01T10:00:00.000Z',
      lastError: 'fetching https://git.example.test/ops/stacks.git failed: HTTP 401',
      lastErrorAt: '2024-05-01T10:05:00.000Z',
      failingSince: '2024-05-01T10:01:00.000Z',
    });
  });

  it('PUT /api/v1/reconcile pauses and resumes', async () => {
    const put = (body: string) =>
      fetch(`${h.base}/api/v1/reconcile`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body,
      });
    const off = await put('{"enabled":false}');
    expect(off.status).toBe(200);
    expect(await json(off)).toEqual({ reconcileEnabled: false });
    const on = await put('{"enabled":true}');
    expect(on.status).toBe(200);
    expect(await json(on)).toEqual({ reconcileEnabled: true });
    expect(h.controller.reconcileCalls).toEqual([false, true]);
  });

  it.each([
    ['a string', '{"enabled":"false"}'],
    ['no field', '{}'],
    ['an array', '[true]'],
    ['null', 'null'],
    ['an empty body', ''],
  ])('PUT /api/v1/reconcile with %s is 400', async (_name, body) => {
    const response = await fetch(`${h.base}/api/v1/reconcile`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(response.status).toBe(400);
    expect((await json(response))['error']).toMatch(/"enabled": true/);
    expect(h.controller.reconcileCalls).toEqual([]);
  });

  it('malformed JSON is 400 and the answer does not echo the body', async () => {
    const response = await fetch(`${h.base}/api/v1/reconcile`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{"enabled": tru, "password": "hunter2"',
    });
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({ error: 'malformed JSON body' });
    expect(text).not.toContain('hunter2');
  });

  it('a JSON body with __proto__ is refused', async () => {
    const response = await fetch(`${h.base}/api/v1/reconcile`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: '{"enabled": true, "__proto__": {"polluted": 1}}',
    });
    expect(response.status).toBe(400);
    expect(h.controller.reconcileCalls).toEqual([]);
  });

  it('a body over 1 MiB is 413', async () => {
    const body = JSON.stringify({ enabled: true, pad: 'x'.repeat(1024 * 1024) });
    const response = await fetch(`${h.base}/api/v1/reconcile`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(response.status).toBe(413);
    expect((await json(response))['error']).toBe('request body larger than 1048576 bytes');
    expect(h.controller.reconcileCalls).toEqual([]);
  });

  it('a body of exactly 1 MiB is accepted', async () => {
    const head = '{"enabled":true,"pad":"';
    const tail = '"}';
    const body = head + 'x'.repeat(1024 * 1024 - head.length - tail.length) + tail;
    expect(Buffer.byteLength(body)).toBe(1024 * 1024);
    const response = await fetch(`${h.base}/api/v1/reconcile`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(response.status).toBe(200);
  });

  it('an unsupported content type is 415', async () => {
    const response = await fetch(`${h.base}/api/v1/reconcile`, {
      method: 'PUT',
      headers: { 'content-type': 'application/xml' },
      body: '<enabled>true</enabled>',
    });
    expect(response.status).toBe(415);
    expect((await json(response))['error']).toMatch(/application\/json/);
  });

  it('GET /api/v1/runs lists the recent runs', async () => {
    const response = await fetch(`${h.base}/api/v1/runs`);
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ runs: h.controller.runList });
  });

  it('a handler failure is a generic 500; the reason goes to the log only', async () => {
    h.controller.stacks = () => {
      throw new Error('state store exploded at /var/lib/stackd');
    };
    const response = await fetch(`${h.base}/api/v1/stacks`);
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(text).not.toContain('exploded');
    expect(h.logs.some((l) => l['event'] === 'http.error' && String(l['reason']).includes('exploded'))).toBe(
      true,
    );
  });
});
