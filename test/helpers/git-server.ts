/**
 * A real Git smart-HTTP server on loopback: node's `http` in front of `git http-backend` (CGI),
 * serving the bare repositories under one directory. Optional basic auth; every request is
 * recorded so tests can assert what a fetch cost.
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GitServerOptions {
  /** Directory holding the bare repositories (`<name>.git`). */
  readonly root: string;
  /** When set, every request needs these basic-auth credentials (401 otherwise). */
  readonly auth?: { readonly username: string; readonly password: string };
}

export interface GitRequest {
  readonly method: string;
  /** Path without the query: `/repo.git/info/refs`. */
  readonly path: string;
  readonly query: string;
  readonly status: number;
  /** Response body bytes sent. */
  readonly bytesOut: number;
  /** The request carried an Authorization header. */
  readonly authorized: boolean;
}

export interface GitServer {
  /** `http://127.0.0.1:<port>`. */
  readonly baseUrl: string;
  /** URL of one repository: `http://127.0.0.1:<port>/<name>.git`. */
  url(name: string): string;
  /** Every request so far, in order of completion. */
  readonly requests: readonly GitRequest[];
  resetRequests(): void;
  /** Require other basic-auth credentials from now on (a token rotated on the forge). */
  setAuth(auth: { readonly username: string; readonly password: string }): void;
  /** Answer every request with 503 (a failing server) until set back to false. */
  setFailing(failing: boolean): void;
  /** Accept requests and never answer them (a hanging server) until set back to false. */
  setStalled(stalled: boolean): void;
  close(): Promise<void>;
}

export async function startGitServer(options: GitServerOptions): Promise<GitServer> {
  const requests: GitRequest[] = [];
  let failing = false;
  let stalled = false;
  let expected =
    options.auth === undefined
      ? undefined
      : `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}`;

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let bytesOut = 0;
    const record = (status: number): void => {
      requests.push({
        method: req.method ?? 'GET',
        path: url.pathname,
        query: url.search.replace(/^\?/, ''),
        status,
        bytesOut,
        authorized: req.headers.authorization !== undefined,
      });
    };
    const reply = (status: number, headers: Record<string, string>, body: string): void => {
      bytesOut = Buffer.byteLength(body);
      res.writeHead(status, headers).end(body);
      record(status);
      req.resume();
    };
    if (stalled) {
      req.resume();
      return;
    }
    if (failing) {
      reply(503, { 'Content-Type': 'text/plain' }, 'unavailable\n');
      return;
    }
    if (expected !== undefined && req.headers.authorization !== expected) {
      reply(401, { 'WWW-Authenticate': 'Basic realm="git"', 'Content-Type': 'text/plain' }, 'auth\n');
      return;
    }
    runBackend(options.root, req, res, url, options.auth?.username ?? '', (n) => (bytesOut += n), record);
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    baseUrl,
    url: (name) => `${baseUrl}/${name}.git`,
    requests,
    resetRequests: () => requests.splice(0),
    setAuth: (auth) => {
      expected = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
    },
    setFailing: (value) => {
      failing = value;
    },
    setStalled: (value) => {
      stalled = value;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => {
          if (error) reject(error);
          else resolve();
        });
      }),
  };
}

/** Run `git http-backend` as a CGI script for one request and relay its answer. */
function runBackend(
  root: string,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  user: string,
  countOut: (bytes: number) => void,
  record: (status: number) => void,
): void {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    GIT_PROJECT_ROOT: root,
    GIT_HTTP_EXPORT_ALL: '1',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GATEWAY_INTERFACE: 'CGI/1.1',
    PATH_INFO: decodeURIComponent(url.pathname),
    REQUEST_METHOD: req.method ?? 'GET',
    QUERY_STRING: url.search.replace(/^\?/, ''),
    CONTENT_TYPE: req.headers['content-type'] ?? '',
    REMOTE_USER: user,
    REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
  };
  const contentLength = req.headers['content-length'];
  if (contentLength !== undefined) env['CONTENT_LENGTH'] = contentLength;
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined) env['HTTP_CONTENT_ENCODING'] = encoding;
  const protocol = req.headers['git-protocol'];
  if (typeof protocol === 'string') env['GIT_PROTOCOL'] = protocol;

  const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  req.pipe(child.stdin);
  child.stdin.on('error', () => undefined);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));

  let head = Buffer.alloc(0);
  let status = 200;
  let headersSent = false;
  child.stdout.on('data', (chunk: Buffer) => {
    if (headersSent) {
      countOut(chunk.length);
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const end = findHeaderEnd(head);
    if (end === undefined) return;
    const headers: Record<string, string> = {};
    for (const line of head.subarray(0, end.index).toString('latin1').split(/\r?\n/)) {
      const colon = line.indexOf(':');
      if (colon === -1) continue;
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
      else headers[name] = value;
    }
    res.writeHead(status, headers);
    headersSent = true;
    const rest = head.subarray(end.index + end.length);
    countOut(rest.length);
    if (rest.length > 0) res.write(rest);
  });
  child.on('close', (code) => {
    if (!headersSent) {
      status = 500;
      res
        .writeHead(500, { 'Content-Type': 'text/plain' })
        .end(`git http-backend failed (${code}): ${stderr}`);
    } else {
      res.end();
    }
    record(status);
  });
}

function findHeaderEnd(buffer: Buffer): { index: number; length: number } | undefined {
  const crlf = buffer.indexOf('\r\n\r\n');
  const lf = buffer.indexOf('\n\n');
  if (crlf !== -1 && (lf === -1 || crlf < lf)) return { index: crlf, length: 4 };
  if (lf !== -1) return { index: lf, length: 2 };
  return undefined;
}
