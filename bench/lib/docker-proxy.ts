/**
 * A counting unix-socket proxy in front of the Docker engine: point DOCKER_HOST at it and every
 * HTTP request made through it is recorded (method, normalised path, time). Connections are
 * kept alive by the clients, so requests are counted by parsing request heads and skipping
 * bodies (Content-Length or chunked), not by counting connections; the event stream is one long
 * request. A hijacked connection (`Upgrade:`) is forwarded and no longer parsed.
 */
import { rm } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface ApiRequest {
  readonly method: string;
  /** Path without the API version prefix and query, ids replaced: `/containers/{id}/json`. */
  readonly endpoint: string;
  /** Date.now() when the request head was seen. */
  readonly at: number;
}

export interface CountingProxy {
  readonly path: string;
  /** `unix://<path>`, for DOCKER_HOST. */
  readonly dockerHost: string;
  /** Every request seen so far, in order. */
  readonly requests: readonly ApiRequest[];
  /** Requests seen since `mark` (an index into `requests`). */
  since(mark: number): ApiRequest[];
  /** The current position, for `since`. */
  mark(): number;
  close(): Promise<void>;
}

/** The engine socket to forward to: DOCKER_HOST when it is a unix socket, else the default. */
export function engineSocket(env: NodeJS.ProcessEnv = process.env): string {
  const host = env['DOCKER_HOST'];
  if (host?.startsWith('unix://') === true) return host.slice('unix://'.length);
  return '/var/run/docker.sock';
}

const ID_SEGMENT =
  /^(containers|networks|volumes|exec|plugins|secrets|configs|services|tasks|nodes)\/([^/]+)/;
const COLLECTION_VERBS = new Set(['json', 'create', 'prune']);

/** `/v1.41/containers/3f…/json?all=1` → `/containers/{id}/json`. */
export function normaliseEndpoint(rawPath: string): string {
  let path = rawPath.split('?')[0] ?? rawPath;
  path = path.replace(/^\/v\d+\.\d+\//, '/');
  const body = path.slice(1);
  const images = /^images\/(.+)\/(json|history|push|tag|get)$/.exec(body);
  if (images !== null) return `/images/{name}/${images[2] ?? ''}`;
  const m = ID_SEGMENT.exec(body);
  if (m !== null && !COLLECTION_VERBS.has(m[2] ?? '')) {
    return `/${m[1] ?? ''}/{id}${body.slice(m[0].length)}`;
  }
  return path;
}

/** Incremental parser of the client → engine half of one HTTP/1.1 connection. */
class RequestStream {
  #buffer: Buffer = Buffer.alloc(0);
  #state: 'head' | 'body' | 'chunk-size' | 'chunk-data' | 'trailer' | 'raw' = 'head';
  #remaining = 0;
  readonly #onRequest: (method: string, path: string) => void;

  constructor(onRequest: (method: string, path: string) => void) {
    this.#onRequest = onRequest;
  }

  push(chunk: Buffer): void {
    if (this.#state === 'raw') return;
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    for (;;) {
      if (!this.#step()) return;
    }
  }

  /** One parsing step; false when more data is needed. */
  #step(): boolean {
    const buf = this.#buffer;
    switch (this.#state) {
      case 'raw':
        this.#buffer = Buffer.alloc(0);
        return false;
      case 'head': {
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) return false;
        const head = buf.subarray(0, end).toString('latin1');
        this.#buffer = buf.subarray(end + 4);
        const [requestLine = '', ...headerLines] = head.split('\r\n');
        const [method = '?', path = '?'] = requestLine.split(' ');
        this.#onRequest(method, path);
        const headers = new Map<string, string>();
        for (const line of headerLines) {
          const colon = line.indexOf(':');
          if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
        }
        if (headers.has('upgrade')) {
          this.#state = 'raw';
          return true;
        }
        if (/chunked/i.test(headers.get('transfer-encoding') ?? '')) {
          this.#state = 'chunk-size';
          return true;
        }
        const length = Number.parseInt(headers.get('content-length') ?? '0', 10);
        if (Number.isFinite(length) && length > 0) {
          this.#state = 'body';
          this.#remaining = length;
        }
        return true;
      }
      case 'body': {
        if (buf.length === 0) return false;
        const take = Math.min(this.#remaining, buf.length);
        this.#remaining -= take;
        this.#buffer = buf.subarray(take);
        if (this.#remaining === 0) this.#state = 'head';
        return true;
      }
      case 'chunk-size': {
        const end = buf.indexOf('\r\n');
        if (end === -1) return false;
        const size = Number.parseInt(buf.subarray(0, end).toString('latin1').split(';')[0] ?? '0', 16);
        this.#buffer = buf.subarray(end + 2);
        if (!Number.isFinite(size) || size === 0) {
          this.#state = 'trailer';
        } else {
          this.#state = 'chunk-data';
          this.#remaining = size + 2; // data and its CRLF
        }
        return true;
      }
      case 'chunk-data': {
        if (buf.length === 0) return false;
        const take = Math.min(this.#remaining, buf.length);
        this.#remaining -= take;
        this.#buffer = buf.subarray(take);
        if (this.#remaining === 0) this.#state = 'chunk-size';
        return true;
      }
      case 'trailer': {
        const end = buf.indexOf('\r\n');
        if (end === -1) return false;
        this.#buffer = buf.subarray(end + 2);
        if (end === 0) this.#state = 'head'; // the empty line ending the trailers
        return true;
      }
    }
  }
}

export async function startCountingProxy(path: string, target = engineSocket()): Promise<CountingProxy> {
  const requests: ApiRequest[] = [];
  const sockets = new Set<Socket>();
  await rm(path, { force: true });
  const server: Server = createServer((client) => {
    const upstream = createConnection(target);
    const parser = new RequestStream((method, rawPath) => {
      requests.push({ method, endpoint: normaliseEndpoint(rawPath), at: Date.now() });
    });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (chunk: Buffer) => {
      parser.push(chunk);
    });
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, resolve);
  });
  return {
    path,
    dockerHost: `unix://${path}`,
    requests,
    since: (mark) => requests.slice(mark),
    mark: () => requests.length,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
      await rm(path, { force: true });
    },
  };
}

/** `{ 'GET /containers/json': 3, … }`, most frequent first. */
export function byEndpoint(requests: readonly ApiRequest[]): Record<string, number> {
  const counts = new Map<string, number>();
  for (const r of requests) {
    const key = `${r.method} ${r.endpoint}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]));
}
