import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { type Harness, json, startServer } from './harness.js';

describe('health probes', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startServer();
  });
  afterEach(async () => {
    await h.close();
  });

  it('GET /healthz is 200 {status:"ok"}', async () => {
    const response = await fetch(`${h.base}/healthz`);
    expect(response.status).toBe(200);
    expect(await json(response)).toMatchObject({ status: 'ok' });
  });

  it('GET /readyz is 200 when the controller is ready', async () => {
    const response = await fetch(`${h.base}/readyz`);
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ status: 'ready' });
  });

  it('GET /readyz is 503 with a reason before the first snapshot', async () => {
    h.controller.isReady = false;
    h.controller.revision = null;
    const response = await fetch(`${h.base}/readyz`);
    expect(response.status).toBe(503);
    expect(await json(response)).toEqual({
      status: 'not ready',
      reason: expect.stringMatching(/no desired state/),
    });
  });

  it('GET /readyz is 503 with a reason when the Docker engine is unreachable', async () => {
    h.controller.isReady = false;
    const response = await fetch(`${h.base}/readyz`);
    expect(response.status).toBe(503);
    expect((await json(response))['reason']).toMatch(/Docker engine/);
  });
});
