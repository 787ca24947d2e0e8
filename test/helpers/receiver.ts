/**
 * A real loopback HTTP server that records what it receives, for tests of outbound requests
 * (notification targets, commit statuses); and fakes of the GitHub, Gitea and GitLab commit
 * status APIs on it, strict about method, path, auth and body as each API's documentation is.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Received {
  readonly method: string;
  /** With the query, as sent (not decoded). */
  readonly path: string;
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Date.now() when the body was complete. */
  readonly at: number;
  json(): unknown;
}

export type Reply = { status: number; body?: string; headers?: Record<string, string> } | 'hang';

export interface Receiver {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly requests: Received[];
  /** How to answer from now on; default: 200 `{}`. */
  respond(fn: (req: Received) => Reply): void;
  /** Resolves with every request so far once `predicate` holds; rejects after `timeoutMs` (5 s). */
  waitFor(predicate: (all: readonly Received[]) => boolean, timeoutMs?: number): Promise<readonly Received[]>;
  /** Stops the server, ending hanging requests too. */
  close(): Promise<void>;
}

function headersOf(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

export async function startReceiver(): Promise<Receiver> {
  const requests: Received[] = [];
  let responder: (req: Received) => Reply = () => ({ status: 200, body: '{}' });
  const waiters = new Set<() => void>();
  const sockets = new Set<Socket>();

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const received: Received = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: headersOf(req),
        body,
        at: Date.now(),
        json: () => JSON.parse(body) as unknown,
      };
      requests.push(received);
      let reply: Reply;
      try {
        reply = responder(received);
      } catch (error) {
        reply = { status: 599, body: String(error) };
      }
      for (const wake of [...waiters]) wake();
      if (reply === 'hang') return; // close() destroys the socket
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(reply.body ?? '');
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    respond(fn) {
      responder = fn;
    },
    waitFor(predicate, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (!predicate(requests)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(requests);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(`receiver: condition not met within ${timeoutMs} ms (${requests.length} requests)`),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}

// ---- Fakes of the commit status APIs ----------------------------------------------------------

export type ScmFakeProvider = 'github' | 'gitea' | 'gitlab';

export interface ScmFakeOptions {
  readonly token: string;
  /** `owner/repo`; GitLab: the project's full path. */
  readonly repository: string;
}

const SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

function json(status: number, value: unknown): Reply {
  return { status, body: JSON.stringify(value) };
}

function parseBody(req: Received): Record<string, unknown> | undefined {
  if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return undefined;
  try {
    const value = req.json();
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Characters (code points, as Ruby and Go count them) of an optional string field. */
function descriptionLength(body: Record<string, unknown>): number {
  const value = body['description'];
  return typeof value === 'string' ? Array.from(value).length : 0;
}

function optionalString(body: Record<string, unknown>, field: string): boolean {
  return body[field] === undefined || typeof body[field] === 'string';
}

let nextId = 1;

/**
 * GitHub: `POST /repos/{owner}/{repo}/statuses/{sha}` ("Create a commit status", REST API
 * 2022-11-28): `Authorization: Bearer|token`, a User-Agent (else 403), state one of error,
 * failure, pending, success (else 422), description ≤ 140 characters (else 422).
 */
function github(options: ScmFakeOptions): (req: Received) => Reply {
  const path = `/repos/${options.repository}/statuses/`;
  return (req) => {
    const auth = req.headers['authorization'];
    if (auth !== `Bearer ${options.token}` && auth !== `token ${options.token}`) {
      return json(401, {
        message: 'Bad credentials',
        documentation_url: 'https://docs.github.com/rest',
        status: '401',
      });
    }
    if (req.headers['user-agent'] === undefined) return json(403, { message: 'User-Agent required' });
    const sha = req.path.startsWith(path) ? req.path.slice(path.length) : '';
    if (req.method !== 'POST' || !SHA.test(sha)) {
      return json(404, {
        message: 'Not Found',
        documentation_url: 'https://docs.github.com/rest',
        status: '404',
      });
    }
    const body = parseBody(req);
    if (body === undefined) return json(400, { message: 'Problems parsing JSON' });
    const state = body['state'];
    const invalid: string[] = [];
    if (typeof state !== 'string' || !['error', 'failure', 'pending', 'success'].includes(state))
      invalid.push('state');
    if (!optionalString(body, 'description') || descriptionLength(body) > 140) {
      invalid.push('description');
    }
    if (!optionalString(body, 'context') || !optionalString(body, 'target_url')) invalid.push('context');
    if (invalid.length > 0) {
      return json(422, {
        message: 'Validation Failed',
        errors: invalid.map((field) => ({ resource: 'Status', code: 'invalid', field })),
        status: '422',
      });
    }
    const id = nextId++;
    const now = new Date().toISOString();
    return json(201, {
      url: `https://api.github.com/repos/${options.repository}/statuses/${sha}`,
      id,
      node_id: `SC_${id}`,
      state,
      description: body['description'] ?? null,
      target_url: body['target_url'] ?? null,
      context: body['context'] ?? 'default',
      created_at: now,
      updated_at: now,
      creator: { login: 'stackd-bot', id: 1, type: 'User' },
    });
  };
}

/**
 * Gitea (also Forgejo, Gogs): `POST /api/v1/repos/{owner}/{repo}/statuses/{sha}` with
 * `Authorization: token …` (or Bearer); state one of pending, success, error, failure, warning
 * (else 422); answers 201 with a CommitStatus, whose state field is named `status`.
 */
function gitea(options: ScmFakeOptions): (req: Received) => Reply {
  const path = `/api/v1/repos/${options.repository}/statuses/`;
  return (req) => {
    const auth = req.headers['authorization'];
    if (auth !== `token ${options.token}` && auth !== `Bearer ${options.token}`) {
      return json(401, { message: 'token is required', url: 'https://gitea.example/api/swagger' });
    }
    const sha = req.path.startsWith(path) ? req.path.slice(path.length) : '';
    if (req.method !== 'POST' || !SHA.test(sha))
      return json(404, { errors: null, message: 'not found', url: '' });
    const body = parseBody(req);
    if (body === undefined) return json(422, [{ fieldNames: [], classification: 'DeserializationError' }]);
    const state = body['state'];
    if (typeof state !== 'string' || !['pending', 'success', 'error', 'failure', 'warning'].includes(state)) {
      return json(422, [{ fieldNames: ['State'], classification: 'InvalidState', message: 'invalid state' }]);
    }
    if (
      !optionalString(body, 'description') ||
      !optionalString(body, 'context') ||
      !optionalString(body, 'target_url')
    ) {
      return json(422, [{ fieldNames: [], classification: 'DeserializationError' }]);
    }
    const now = new Date().toISOString();
    return json(201, {
      id: nextId++,
      status: state,
      target_url: body['target_url'] ?? '',
      description: body['description'] ?? '',
      url: `https://gitea.example/api/v1/repos/${options.repository}/statuses/${sha}`,
      context: body['context'] ?? '',
      creator: { id: 1, login: 'stackd-bot' },
      created_at: now,
      updated_at: now,
    });
  };
}

/**
 * GitLab: `POST /api/v4/projects/:id/statuses/:sha`, `:id` the numeric id or the URL-encoded
 * full path (`group%2Fproject`); `PRIVATE-TOKEN` (or Bearer); state one of pending, running,
 * success, failed, canceled, skipped. GitLab answers a bad parameter with 400, not 422.
 */
function gitlab(options: ScmFakeOptions): (req: Received) => Reply {
  const path = `/api/v4/projects/${encodeURIComponent(options.repository)}/statuses/`;
  return (req) => {
    if (
      req.headers['private-token'] !== options.token &&
      req.headers['authorization'] !== `Bearer ${options.token}`
    ) {
      return json(401, { message: '401 Unauthorized' });
    }
    const sha = req.path.startsWith(path) ? req.path.slice(path.length) : '';
    if (req.method !== 'POST' || !SHA.test(sha)) return json(404, { message: '404 Project Not Found' });
    const body = parseBody(req);
    if (body === undefined) return json(400, { error: 'body is not valid JSON' });
    const state = body['state'];
    if (
      typeof state !== 'string' ||
      !['pending', 'running', 'success', 'failed', 'canceled', 'skipped'].includes(state)
    ) {
      return json(400, { error: 'state does not have a valid value' });
    }
    if (body['context'] !== undefined) return json(400, { error: 'stackd sends name, not context' });
    if (
      !optionalString(body, 'name') ||
      !optionalString(body, 'description') ||
      !optionalString(body, 'target_url')
    ) {
      return json(400, { error: 'name, description and target_url are strings' });
    }
    if (descriptionLength(body) > 255) {
      return json(400, { message: { description: ['is too long (maximum is 255 characters)'] } });
    }
    const now = new Date().toISOString();
    return json(201, {
      id: nextId++,
      sha,
      ref: 'main',
      status: state,
      name: body['name'] ?? 'default',
      target_url: body['target_url'] ?? null,
      description: body['description'] ?? null,
      created_at: now,
      started_at: null,
      finished_at: ['success', 'failed', 'canceled', 'skipped'].includes(state) ? now : null,
      allow_failure: false,
      coverage: null,
      author: { id: 1, username: 'stackd-bot' },
    });
  };
}

/** A `respond` function faking `provider`'s commit status API for one repository and token. */
export function scmRoutes(provider: ScmFakeProvider, options: ScmFakeOptions): (req: Received) => Reply {
  switch (provider) {
    case 'github':
      return github(options);
    case 'gitea':
      return gitea(options);
    case 'gitlab':
      return gitlab(options);
  }
}
