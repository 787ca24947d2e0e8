import { createServer as createNetServer } from 'node:net';
import { networkInterfaces } from 'node:os';
import { describe, expect, it } from '@jest/globals';
import { silentLogger } from '../../internal/log/index.js';
import { createMetrics } from '../../internal/metrics/index.js';
import { ListenError, createServer } from '../../internal/server/index.js';
import { FakeController } from './fake_controller.js';

function newServer() {
  return createServer({
    controller: new FakeController(),
    logger: silentLogger(),
    branch: 'main',
    metrics: createMetrics({ defaultMetrics: false }),
    version: 'test',
  });
}

describe('listen', () => {
  it('resolves with the bound address (port 0 → a free port)', async () => {
    const server = newServer();
    try {
      const address = await server.listen('127.0.0.1', 0);
      expect(address.host).toBe('127.0.0.1');
      expect(address.port).toBeGreaterThan(0);
      expect(address.url).toBe(`http://127.0.0.1:${address.port}`);
      expect((await fetch(`${address.url}/healthz`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('brackets an IPv6 address in the URL', async () => {
    const server = newServer();
    try {
      const address = await server.listen('::1', 0);
      expect(address.url).toBe(`http://[::1]:${address.port}`);
      expect((await fetch(`${address.url}/healthz`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('rejects with a ListenError naming the address when the port is in use', async () => {
    const blocker = createNetServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    const server = newServer();
    try {
      const error = await server.listen('127.0.0.1', port).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ListenError);
      expect((error as ListenError).message).toBe(
        `cannot listen on 127.0.0.1:${port}: address already in use`,
      );
      expect((error as ListenError).name).toBe('ListenError');
      expect((error as ListenError).code).toBe('EADDRINUSE');
      expect((error as ListenError).exitCode).toBe(5);
      expect((error as ListenError).cause).toBeDefined();
    } finally {
      await server.close();
      await new Promise<void>((resolve) =>
        blocker.close(() => {
          resolve();
        }),
      );
    }
  });

  const foreign = '203.0.113.77'; // TEST-NET-3: documentation only, on no real host
  const onThisHost = Object.values(networkInterfaces()).some((a) => a?.some((i) => i.address === foreign));
  (onThisHost ? it.skip : it)('rejects with a ListenError when the address is not on this host', async () => {
    const server = newServer();
    try {
      const error = await server.listen(foreign, 0).catch((e: unknown) => e);
      expect((error as ListenError).message).toMatch(
        /^cannot listen on 203\.0\.113\.77:0: address not available on this host$/,
      );
      // Not "cannot start" (5): an address may come up later (the unit restarts on exit 1).
      expect((error as ListenError).exitCode).toBeUndefined();
    } finally {
      await server.close();
    }
  });
});
