/**
 * Engine proxies for the engine fault tests: a unix socket in front of the real engine that, when
 * `stalled`, swallows every byte both ways (the engine hangs) or only holds back container starts
 * (the engine answers but starts nothing). The real engine is never touched.
 */
import { rm } from 'node:fs/promises';
import { type Server, type Socket, createConnection, createServer } from 'node:net';

export interface StallingProxy {
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
export function startStallingProxy(path: string): Promise<StallingProxy> {
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
export function startStartStallingProxy(path: string): Promise<StallingProxy> {
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
