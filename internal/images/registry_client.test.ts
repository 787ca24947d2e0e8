/**
 * RegistryClient against a tiny local HTTP server playing the registry, for what a real registry
 * will not do on demand: 429 with and without Retry-After, 500, a hang, a Bearer token service,
 * a HEAD without Docker-Content-Digest. Time is a FakeClock; the sockets are real.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { FakeClock } from '../../pkg/clock/fake.js';
import type { RegistryLogin } from '../registry/index.js';
import { parseChallenges } from './auth_challenge.js';
import { parseReference, type ImageReference } from './reference.js';
import {
  MANIFEST_MEDIA_TYPES,
  RegistryCheckError,
  RegistryClient,
  registryBaseUrl,
  type RegistryClientOptions,
} from './registry_client.js';
import { parseRetryAfter } from './registry_limiter.js';
import { loginFor, loginRegistry } from './registry_login.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const PASSWORD = 'hunter2-secret';
const AUTH = Buffer.from(`deploy:${PASSWORD}`).toString('base64');
const TOKEN = 'token-secret-xyz';

interface Seen {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

type Handler = (req: Seen, res: ServerResponse) => void;

/** A registry on 127.0.0.1 that answers with whatever `handler` says and records every request. */
class FakeRegistry {
  readonly seen: Seen[] = [];
  handler: Handler = (_req, res) => res.writeHead(500).end();
  readonly #server: Server;
  /** Responses left hanging (closed at the end). */
  readonly hanging: ServerResponse[] = [];

  constructor() {
    this.#server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const seen = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body };
        this.seen.push(seen);
        this.handler(seen, res);
      });
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
  }

  get host(): string {
    return `127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  manifests(): Seen[] {
    return this.seen.filter((s) => s.path.includes('/manifests/'));
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) =>
      this.#server.close(() => {
        resolve();
      }),
    );
  }
}

/** Waits (real time) until `check` holds. */
async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Lets real I/O happen for a moment (to show that something does not happen). */
const pause = (ms = 50): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const ok = (res: ServerResponse, digest = DIGEST): void => {
  res
    .writeHead(200, { 'docker-content-digest': digest, 'content-type': MANIFEST_MEDIA_TYPES[1] ?? '' })
    .end();
};

/** The RegistryCheckError `promise` rejects with. */
async function failure(promise: Promise<unknown>): Promise<RegistryCheckError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RegistryCheckError) return error;
    throw error;
  }
  throw new Error('resolved');
}

describe('RegistryClient', () => {
  let registry: FakeRegistry;
  let clock: FakeClock;
  let ref: ImageReference;

  beforeEach(async () => {
    registry = new FakeRegistry();
    await registry.start();
    clock = new FakeClock();
    ref = parseReference(`${registry.host}/team/app:1`)!;
  });

  afterEach(async () => {
    await registry.close();
  });

  const client = (options: Partial<RegistryClientOptions> = {}): RegistryClient =>
    new RegistryClient({ clock, minIntervalMs: 0, ...options });

  const logins =
    (login: RegistryLogin = { auth: AUTH }) =>
    () =>
      new Map([[registry.host, login]]);

  /** No message of `error` (or of its causes) holds a secret. */
  const noSecrets = (error: Error): void => {
    const text = `${error.message} ${String(error.cause)} ${error.stack ?? ''}`;
    for (const secret of [PASSWORD, AUTH, TOKEN]) expect(text).not.toContain(secret);
  };

  it('asks with one HEAD of the manifest, accepting the four types the engine pulls, over http on loopback', async () => {
    registry.handler = (_req, res) => {
      ok(res);
    };
    await expect(client().headDigest(ref)).resolves.toBe(DIGEST);
    expect(registry.seen).toHaveLength(1);
    const [head] = registry.seen;
    expect(head).toMatchObject({ method: 'HEAD', path: '/v2/team/app/manifests/1' });
    expect(head!.headers.authorization).toBeUndefined();
    expect(String(head!.headers.accept).split(/,\s*/).sort()).toEqual([
      'application/vnd.docker.distribution.manifest.list.v2+json',
      'application/vnd.docker.distribution.manifest.v2+json',
      'application/vnd.oci.image.index.v1+json',
      'application/vnd.oci.image.manifest.v1+json',
    ]);
  });

  it('hashes the manifest of a GET when the HEAD does not name its digest (no blob is asked for)', async () => {
    const manifest = JSON.stringify({ schemaVersion: 2, mediaType: MANIFEST_MEDIA_TYPES[1], layers: [] });
    registry.handler = (req, res) => {
      res.writeHead(200, { 'content-type': MANIFEST_MEDIA_TYPES[1] ?? '' });
      res.end(req.method === 'GET' ? manifest : undefined);
    };
    const expected = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
    await expect(client().headDigest(ref)).resolves.toBe(expected);
    expect(registry.seen.map((s) => `${s.method} ${s.path}`)).toEqual([
      'HEAD /v2/team/app/manifests/1',
      'GET /v2/team/app/manifests/1',
    ]);
  });

  it('answers a Bearer challenge with a token got with the login, kept until it expires', async () => {
    const realm = `http://${registry.host}/token`;
    registry.handler = (req, res) => {
      if (req.path.startsWith('/token')) {
        if (req.headers.authorization !== `Basic ${AUTH}`) return void res.writeHead(401).end();
        return void res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ token: TOKEN, expires_in: 300 }));
      }
      if (req.headers.authorization === `Bearer ${TOKEN}`) {
        ok(res);
        return;
      }
      res
        .writeHead(401, {
          'www-authenticate': `Bearer realm="${realm}",service="fake-registry",scope="repository:team/app:pull"`,
        })
        .end();
    };
    const c = client({ logins: logins() });
    await expect(c.headDigest(ref)).resolves.toBe(DIGEST);
    expect(registry.seen.map((s) => `${s.method} ${s.path}`)).toEqual([
      'HEAD /v2/team/app/manifests/1',
      'GET /token?service=fake-registry&scope=repository%3Ateam%2Fapp%3Apull',
      'HEAD /v2/team/app/manifests/1',
    ]);
    // The token is kept: the next check is one HEAD.
    await clock.advanceAsync(299_000);
    await c.headDigest(ref);
    expect(registry.seen).toHaveLength(4);
    // Expired: the challenge again, and a new token.
    await clock.advanceAsync(1_000);
    await c.headDigest(ref);
    expect(registry.seen.map((s) => s.path.replace(/\?.*/, '')).slice(4)).toEqual([
      '/v2/team/app/manifests/1',
      '/token',
      '/v2/team/app/manifests/1',
    ]);
  });

  it('asks the token service anonymously without a login, and says denied when it refuses', async () => {
    registry.handler = (req, res) => {
      if (req.path.startsWith('/token')) return void res.writeHead(401).end();
      res
        .writeHead(401, { 'www-authenticate': `Bearer realm="http://${registry.host}/token",service="s"` })
        .end();
    };
    const error = await failure(client().headDigest(ref));
    expect(error).toMatchObject({ kind: 'denied', registry: registry.host });
    expect(error.message).toBe(
      `the token service of registry ${registry.host} denied access to team/app (HTTP 401, with no login for it in registry.authFile)`,
    );
    const token = registry.seen.find((s) => s.path.startsWith('/token'))!;
    expect(token.headers.authorization).toBeUndefined();
    // No scope in the challenge: the pull scope of the repository.
    expect(new URL(token.path, 'http://x').searchParams.get('scope')).toBe('repository:team/app:pull');
  });

  it('sends an identity token as an OAuth2 refresh token (POST)', async () => {
    registry.handler = (req, res) => {
      if (req.path.startsWith('/token')) {
        return void res.writeHead(200).end(JSON.stringify({ access_token: TOKEN }));
      }
      if (req.headers.authorization === `Bearer ${TOKEN}`) {
        ok(res);
        return;
      }
      res
        .writeHead(401, { 'www-authenticate': `Bearer realm="http://${registry.host}/token",service="s"` })
        .end();
    };
    await expect(
      client({ logins: logins({ auth: '', identitytoken: 'refresh-me' }) }).headDigest(ref),
    ).resolves.toBe(DIGEST);
    const token = registry.seen.find((s) => s.path.startsWith('/token'))!;
    expect(token.method).toBe('POST');
    expect(Object.fromEntries(new URLSearchParams(token.body))).toEqual({
      grant_type: 'refresh_token',
      client_id: 'stackd',
      service: 's',
      scope: 'repository:team/app:pull',
      refresh_token: 'refresh-me',
    });
  });

  it('answers a Basic challenge with the login (then sends it at once), and says denied, without secrets, when refused', async () => {
    let password = AUTH;
    registry.handler = (req, res) => {
      if (req.headers.authorization === `Basic ${password}`) {
        ok(res);
        return;
      }
      res.writeHead(401, { 'www-authenticate': 'Basic realm="fake"' }).end();
    };
    const c = client({ logins: logins() });
    await expect(c.headDigest(ref)).resolves.toBe(DIGEST);
    expect(registry.seen.map((s) => s.headers.authorization)).toEqual([undefined, `Basic ${AUTH}`]);
    await c.headDigest(ref);
    expect(registry.seen).toHaveLength(3);
    // The password changed on the registry: denied, naming registry, repository and status only.
    password = 'other';
    const error = await failure(c.headDigest(ref));
    expect(error).toMatchObject({ kind: 'denied', registry: registry.host });
    expect(error.message).toBe(`registry ${registry.host} denied access to team/app (HTTP 401)`);
    noSecrets(error);
    // No login at all.
    const anonymous = await failure(client().headDigest(ref));
    expect(anonymous.kind).toBe('denied');
    expect(anonymous.message).toContain('no login for it');
  });

  it('says not_found for 404, denied for 403, unreachable with the status for 500', async () => {
    let status = 404;
    registry.handler = (_req, res) => res.writeHead(status).end();
    const c = client();
    expect(await failure(c.headDigest(ref))).toMatchObject({
      kind: 'not_found',
      message: `registry ${registry.host} has no team/app:1 (HTTP 404)`,
    });
    status = 403;
    expect((await failure(c.headDigest(ref))).kind).toBe('denied');
    status = 500;
    expect(await failure(c.headDigest(ref))).toMatchObject({
      kind: 'unreachable',
      message: `registry ${registry.host} answered HTTP 500 for team/app:1`,
    });
  });

  it('says invalid for a digest header that is no sha256 digest, and for a reference without a tag', async () => {
    registry.handler = (_req, res) => {
      ok(res, 'md5:abc');
    };
    expect((await failure(client().headDigest(ref))).kind).toBe('invalid');
    const pinned = parseReference(`${registry.host}/team/app@${DIGEST}`)!;
    expect((await failure(client().headDigest(pinned))).kind).toBe('invalid');
  });

  it('says unreachable when nothing listens (ECONNREFUSED) and when the registry does not answer in time', async () => {
    const closed = new FakeRegistry();
    await closed.start();
    const host = closed.host;
    await closed.close();
    const refused = await failure(client().headDigest(parseReference(`${host}/app:1`)!));
    expect(refused).toMatchObject({
      kind: 'unreachable',
      message: `registry ${host} is unreachable for app (ECONNREFUSED)`,
    });

    registry.handler = (_req, res) => registry.hanging.push(res);
    const pending = failure(client({ timeoutMs: 5_000 }).headDigest(ref));
    await until(() => registry.seen.length === 1, 'the HEAD');
    await clock.advanceAsync(4_999);
    await clock.advanceAsync(1);
    expect(await pending).toMatchObject({
      kind: 'unreachable',
      message: `registry ${registry.host} did not answer within 5000 ms for team/app`,
    });
  });

  it('rejects with the reason of an aborted signal', async () => {
    registry.handler = (_req, res) => registry.hanging.push(res);
    const controller = new AbortController();
    const pending = client().headDigest(ref, controller.signal);
    await until(() => registry.seen.length === 1, 'the HEAD');
    const reason = new Error('stopping');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });

  it('after a 429 with Retry-After asks nothing until then, failing fast with retryAfterMs', async () => {
    let limited = true;
    registry.handler = (_req, res) => {
      if (limited) res.writeHead(429, { 'retry-after': '120' }).end();
      else ok(res);
    };
    const c = client();
    const first = await failure(c.headDigest(ref));
    expect(first).toMatchObject({ kind: 'rate_limited', registry: registry.host, retryAfterMs: 120_000 });
    limited = false;
    await clock.advanceAsync(30_000);
    const fast = await failure(c.headDigest(ref));
    expect(fast).toMatchObject({ kind: 'rate_limited', retryAfterMs: 90_000 });
    expect(registry.seen).toHaveLength(1);
    // Another registry is not held up.
    const other = new FakeRegistry();
    await other.start();
    other.handler = (_req, res) => {
      ok(res);
    };
    await expect(c.headDigest(parseReference(`${other.host}/x:1`)!)).resolves.toBe(DIGEST);
    await other.close();
    await clock.advanceAsync(90_000);
    await expect(c.headDigest(ref)).resolves.toBe(DIGEST);
  });

  it('reads a Retry-After that is an HTTP date', async () => {
    const at = new Date(clock.date().getTime() + 45_000).toUTCString();
    registry.handler = (_req, res) => res.writeHead(429, { 'retry-after': at }).end();
    expect(await failure(client().headDigest(ref))).toMatchObject({
      kind: 'rate_limited',
      retryAfterMs: 45_000,
    });
    expect(parseRetryAfter('soon', clock.date())).toBeUndefined();
    expect(parseRetryAfter(null, clock.date())).toBeUndefined();
  });

  it('backs off 30 s, 60 s, … after 429s without Retry-After; a success starts over', async () => {
    let limited = true;
    registry.handler = (_req, res) => {
      if (limited) res.writeHead(429).end();
      else ok(res);
    };
    const c = client();
    const delays: (number | undefined)[] = [];
    for (let i = 0; i < 3; i++) {
      const error = await failure(c.headDigest(ref));
      delays.push(error.retryAfterMs);
      await clock.advanceAsync(error.retryAfterMs ?? 0);
    }
    expect(delays).toEqual([30_000, 60_000, 120_000]);
    expect(registry.seen).toHaveLength(3);
    limited = false;
    await c.headDigest(ref);
    limited = true;
    expect((await failure(c.headDigest(ref))).retryAfterMs).toBe(30_000);
  });

  it('sends one request at a time to a registry, minIntervalMs apart', async () => {
    registry.handler = (_req, res) => registry.hanging.push(res);
    const c = client({ minIntervalMs: 200 });
    const results = [c.headDigest(ref), c.headDigest(ref)];
    await until(() => registry.seen.length === 1, 'the first HEAD');
    await pause();
    // The second waits for the first to be answered …
    expect(registry.seen).toHaveLength(1);
    registry.hanging.shift()?.writeHead(200, { 'docker-content-digest': DIGEST }).end();
    await expect(results[0]).resolves.toBe(DIGEST);
    // … and then for the gap.
    await clock.advanceAsync(199);
    await pause();
    expect(registry.seen).toHaveLength(1);
    await clock.advanceAsync(1);
    await until(() => registry.seen.length === 2, 'the second HEAD');
    registry.hanging.shift()?.writeHead(200, { 'docker-content-digest': DIGEST }).end();
    await expect(results[1]).resolves.toBe(DIGEST);
  });

  it('checks its options loudly', () => {
    expect(() => new RegistryClient({ timeoutMs: 0 })).toThrow(
      'Expected `timeoutMs` to be a finite number from 1 and up, got `0` (number)',
    );
    expect(() => new RegistryClient({ minIntervalMs: -1 })).toThrow('minIntervalMs');
  });
});

describe('registryBaseUrl', () => {
  it.each([
    ['localhost:5000', 'http://localhost:5000'],
    ['localhost', 'http://localhost'],
    ['127.0.0.1:5000', 'http://127.0.0.1:5000'],
    ['127.8.9.10', 'http://127.8.9.10'],
    ['[::1]:5000', 'http://[::1]:5000'],
    ['ghcr.io', 'https://ghcr.io'],
    ['registry.example:8443', 'https://registry.example:8443'],
    ['localhost.example.com', 'https://localhost.example.com'],
    ['docker.io', 'https://registry-1.docker.io'],
  ])('%s → %s', (registry, url) => {
    expect(registryBaseUrl(registry)).toBe(url);
  });
});

describe('loginFor', () => {
  const hub = { auth: 'aHViOnB3' };
  const ghcr = { auth: 'Z2g6cHc=' };

  it('finds Docker Hub by any of its spellings, docker login’s first', () => {
    expect(loginFor(new Map([['https://index.docker.io/v1/', hub]]), 'docker.io')).toBe(hub);
    expect(loginFor(new Map([['docker.io', hub]]), 'docker.io')).toBe(hub);
    expect(loginFor(new Map([['index.docker.io', hub]]), 'docker.io')).toBe(hub);
    expect(
      loginFor(
        new Map([
          ['index.docker.io', ghcr],
          ['https://index.docker.io/v1/', hub],
        ]),
        'docker.io',
      ),
    ).toBe(hub);
  });

  it('matches other registries by host, scheme and path dropped', () => {
    expect(loginFor(new Map([['https://ghcr.io', ghcr]]), 'ghcr.io')).toBe(ghcr);
    expect(loginFor(new Map([['http://localhost:5000/v2/', ghcr]]), 'localhost:5000')).toBe(ghcr);
    expect(loginFor(new Map([['localhost:5000', ghcr]]), 'localhost:5001')).toBeUndefined();
    expect(loginFor(undefined, 'ghcr.io')).toBeUndefined();
    expect(loginRegistry('HTTPS://Registry-1.Docker.IO/v2/')).toBe('docker.io');
  });
});

describe('parseChallenges', () => {
  it('reads Bearer and Basic challenges with quoted and bare parameters', () => {
    const [bearer] = parseChallenges(
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull,push"',
    );
    expect(bearer?.scheme).toBe('bearer');
    expect(Object.fromEntries(bearer?.params ?? [])).toEqual({
      realm: 'https://auth.docker.io/token',
      service: 'registry.docker.io',
      scope: 'repository:library/nginx:pull,push',
    });
    const both = parseChallenges('Basic realm=fake, Bearer Realm="x\\"y", error="insufficient_scope"');
    expect(both.map((c) => [c.scheme, Object.fromEntries(c.params)])).toEqual([
      ['basic', { realm: 'fake' }],
      ['bearer', { realm: 'x"y', error: 'insufficient_scope' }],
    ]);
    expect(parseChallenges('Negotiate abc==')).toEqual([{ scheme: 'negotiate', params: new Map() }]);
    expect(parseChallenges(null)).toEqual([]);
    expect(parseChallenges('=,"')).toEqual([]);
  });
});
