/**
 * Asks a registry which manifest a tag names right now, without pulling: one `HEAD
 * /v2/<repository>/manifests/<tag>` accepting the four manifest types the engine pulls with, so
 * the `Docker-Content-Digest` it answers is the digest `docker pull` records in RepoDigests (a
 * registry that leaves the header out gets a GET of the manifest, hashed; never a blob request).
 *
 * A 401 is answered as the engine does: a `Bearer` challenge sends the login of
 * `registry.authFile` (or nobody, anonymously) to the token service, and the token is kept per
 * repository until it expires; a `Basic` challenge gets the login itself. Requests to one registry
 * go through its `RegistryLimiter` (one at a time, a gap between them, a back-off after 429).
 * Every failure is a `RegistryCheckError` whose message names the registry, the repository and the
 * HTTP status — never a login, a token or a header.
 */
import { createHash } from 'node:crypto';
import { realClock, type Clock } from '../../pkg/clock/index.js';
import { checkNumber } from '../../pkg/validate/index.js';
import type { RegistryLogin } from '../registry/index.js';
import {
  REGISTRY_BACKOFF,
  REGISTRY_MIN_INTERVAL_MS,
  REGISTRY_REQUEST_TIMEOUT_MS,
  REGISTRY_RETRY_AFTER_MAX_MS,
} from '../schedule/index.js';
import { parseChallenges, type AuthChallenge } from './auth_challenge.js';
import { DOCKER_HUB, type ImageReference } from './reference.js';
import { RegistryLimiter, parseRetryAfter } from './registry_limiter.js';
import { loginFor } from './registry_login.js';

/**
 * Why a check failed: the registry could not be asked (`unreachable`, also for an HTTP status that
 * says nothing of the image), refused the login or its absence (`denied`), has no such tag
 * (`not_found`), asked for a pause (`rate_limited`), or answered something that is no digest
 * (`invalid`; also a reference without a tag).
 */
export type RegistryFailure = 'unreachable' | 'denied' | 'not_found' | 'rate_limited' | 'invalid';

/** A digest check failed; `message` names the registry, the repository and the HTTP status. */
export class RegistryCheckError extends Error {
  override readonly name = 'RegistryCheckError';
  readonly kind: RegistryFailure;
  /** The registry as references name it (`docker.io`, `localhost:5000`). */
  readonly registry: string;
  /** For `rate_limited`: how long until the registry may be asked again, in ms. */
  readonly retryAfterMs?: number;

  constructor(
    kind: RegistryFailure,
    registry: string,
    message: string,
    options: { readonly cause?: unknown; readonly retryAfterMs?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.kind = kind;
    this.registry = registry;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
}

export interface RegistryClientOptions {
  /**
   * Credentials by registry as in Docker's config.json `auths` (keys like `localhost:5000`,
   * `https://index.docker.io/v1/`, `ghcr.io`). Called on each check, so a reload is seen.
   * @default no logins: every registry is asked anonymously
   */
  readonly logins?: () => ReadonlyMap<string, RegistryLogin> | undefined;
  /**
   * Every timer and timestamp.
   * @default realClock
   */
  readonly clock?: Clock;
  /**
   * The longest wait for one answer (headers and body) of a registry or its token service, in ms.
   * @default 30_000 (REGISTRY_REQUEST_TIMEOUT_MS)
   */
  readonly timeoutMs?: number;
  /**
   * Per registry, the least gap between the end of one request and the start of the next, in ms.
   * @default 200 (REGISTRY_MIN_INTERVAL_MS)
   */
  readonly minIntervalMs?: number;
  /**
   * Makes the HTTP requests.
   * @default globalThis.fetch
   */
  readonly fetch?: typeof fetch;
}

/** What `docker pull` accepts (engine 20.10+), so the digest is the one it records. */
export const MANIFEST_MEDIA_TYPES = Object.freeze([
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
]);

/** distribution's own limit on a manifest's size; a token answer is far smaller. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const MAX_TOKEN_BYTES = 1024 * 1024;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
/** What a token service that leaves `expires_in` out means (distribution's token spec). */
const DEFAULT_TOKEN_SECONDS = 60;

/** `host[:port]` without the port: `localhost`, `127.0.0.1`, `[::1]`. */
function hostOf(registry: string): string {
  if (registry.startsWith('[')) return registry.slice(0, registry.indexOf(']') + 1);
  return registry.replace(/:\d+$/, '');
}

/**
 * Where `registry`'s API is: Docker Hub's is `https://registry-1.docker.io`; loopback
 * (`localhost`, 127.0.0.0/8, `[::1]`) is plain HTTP, as the engine trusts it without TLS; every
 * other registry is HTTPS.
 */
export function registryBaseUrl(registry: string): string {
  if (registry === DOCKER_HUB) return 'https://registry-1.docker.io';
  const host = hostOf(registry);
  const loopback = host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
  return `${loopback ? 'http' : 'https'}://${registry}`;
}

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  /** The body when it was asked for (at most the limit), else undefined. */
  readonly body: Buffer | undefined;
}

interface CachedToken {
  /** The whole `Authorization` value: `Bearer <token>`. */
  readonly authorization: string;
  /** `clock.now()` past which it is not sent. */
  readonly expiresAt: number;
}

/**
 * What a failed fetch says (`ECONNREFUSED`, `ENOTFOUND`, else its innermost message): the only part
 * of it a message shows. No secret is in it: they travel in headers, which no fetch error quotes.
 */
function reasonOf(error: unknown): string {
  let innermost = 'failed';
  // Duck-typed: fetch's errors may come from another realm (jest's VM), where `instanceof` fails.
  let e = error as
    { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown } | null | undefined;
  for (let depth = 0; typeof e === 'object' && e !== null && depth < 5; depth++, e = e.cause as typeof e) {
    if (typeof e.code === 'string' && e.code !== '') return e.code;
    if (Array.isArray(e.errors)) {
      const inner = (e.errors as unknown[]).map(reasonOf).find((c) => /^E[A-Z]+$/.test(c));
      if (inner !== undefined) return inner;
    }
    if (typeof e.message === 'string' && e.message !== '') innermost = e.message.slice(0, 100);
  }
  return innermost;
}

/** The body of `response`, or undefined when it is longer than `max` bytes (then not read further). */
async function readBody(response: Response, max: number): Promise<Buffer | undefined> {
  if (response.body === null) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let length = 0;
  // Leaving the loop early cancels the stream.
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    length += chunk.byteLength;
    if (length > max) return undefined;
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

/** Whether `signal` has aborted (a function, so a check after an await is not narrowed away). */
const aborted = (signal: AbortSignal | undefined): boolean => signal?.aborted === true;

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

export class RegistryClient {
  readonly #logins: () => ReadonlyMap<string, RegistryLogin> | undefined;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;
  readonly #limiter: RegistryLimiter;
  /** Bearer tokens by `registry/repository` and a hash of the login they were got with. */
  readonly #tokens = new Map<string, CachedToken>();
  /** Registries whose last challenge was `Basic`: their login is sent without waiting for a 401. */
  readonly #basic = new Set<string>();

  constructor(options: RegistryClientOptions = {}) {
    const timeoutMs = options.timeoutMs ?? REGISTRY_REQUEST_TIMEOUT_MS;
    const minIntervalMs = options.minIntervalMs ?? REGISTRY_MIN_INTERVAL_MS;
    checkNumber('timeoutMs', timeoutMs, 1);
    checkNumber('minIntervalMs', minIntervalMs, 0);
    this.#logins = options.logins ?? (() => undefined);
    this.#clock = options.clock ?? realClock;
    this.#timeoutMs = timeoutMs;
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#limiter = new RegistryLimiter({
      clock: this.#clock,
      minIntervalMs,
      backoff: REGISTRY_BACKOFF,
      maxRetryAfterMs: REGISTRY_RETRY_AFTER_MAX_MS,
    });
  }

  /**
   * The digest (`sha256:…`) the registry serves for `ref`'s tag right now: one HEAD
   * /v2/<repo>/manifests/<tag> (after a 401, the token or login and the HEAD again). Rejects with
   * a `RegistryCheckError`, or with `signal`'s reason once it aborts.
   */
  async headDigest(ref: ImageReference, signal?: AbortSignal): Promise<string> {
    const { registry, repository, tag } = ref;
    if (tag === null) {
      throw new RegistryCheckError('invalid', registry, `${ref.name} names no tag to check`);
    }
    const login = loginFor(this.#logins(), registry);
    const url = `${registryBaseUrl(registry)}/v2/${repository}/manifests/${encodeURIComponent(tag)}`;
    let authorization = this.#knownAuthorization(ref, login);
    let answer = await this.#manifest(ref, url, 'HEAD', authorization, signal);
    if (answer.status === 401) {
      // No login sent yet, or a token that expired or was revoked: answer the challenge afresh.
      this.#tokens.delete(this.#tokenKey(ref, login));
      authorization = await this.#answerChallenge(ref, login, answer.headers.get('www-authenticate'), signal);
      if (authorization === undefined) throw this.#denied(ref, 401, login);
      answer = await this.#manifest(ref, url, 'HEAD', authorization, signal);
    }
    this.#expectOk(ref, answer, login);
    let digest = answer.headers.get('docker-content-digest')?.trim();
    if (digest === undefined || digest === '') {
      // A registry that does not say on HEAD: the manifest's own bytes are its digest.
      answer = await this.#manifest(ref, url, 'GET', authorization, signal);
      this.#expectOk(ref, answer, login);
      if (answer.body === undefined) throw this.#invalid(ref, 'a manifest over 4 MiB');
      digest = `sha256:${sha256(answer.body)}`;
    }
    if (!DIGEST.test(digest)) throw this.#invalid(ref, 'a digest that is no sha256 digest');
    this.#limiter.succeeded(registry);
    return digest;
  }

  /** The `Authorization` to send before any challenge: a fresh cached token, or a Basic login. */
  #knownAuthorization(ref: ImageReference, login: RegistryLogin | undefined): string | undefined {
    const key = this.#tokenKey(ref, login);
    const token = this.#tokens.get(key);
    if (token !== undefined) {
      if (this.#clock.now() < token.expiresAt) return token.authorization;
      this.#tokens.delete(key);
    }
    if (this.#basic.has(ref.registry) && login !== undefined && login.auth !== '')
      return `Basic ${login.auth}`;
    return undefined;
  }

  #tokenKey(ref: ImageReference, login: RegistryLogin | undefined): string {
    const who = login === undefined ? 'anonymous' : sha256(`${login.auth}\n${login.identitytoken ?? ''}`);
    return `${ref.name}\n${who}`;
  }

  /** The manifest request, in the registry's turn; a 429 throws (and pauses the registry). */
  async #manifest(
    ref: ImageReference,
    url: string,
    method: 'HEAD' | 'GET',
    authorization: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Answer> {
    const headers: Record<string, string> = { accept: MANIFEST_MEDIA_TYPES.join(', ') };
    if (authorization !== undefined) headers['authorization'] = authorization;
    const answer = await this.#limiter.run(
      ref.registry,
      () =>
        this.#send(
          ref,
          `registry ${ref.registry}`,
          url,
          { method, headers },
          method === 'GET' ? MAX_MANIFEST_BYTES : 0,
          signal,
        ),
      (retryAfterMs) =>
        new RegistryCheckError(
          'rate_limited',
          ref.registry,
          `registry ${ref.registry} is rate limited (HTTP 429 before): not asked for ${ref.repository} for ${Math.ceil(retryAfterMs / 1000)} s more`,
          { retryAfterMs },
        ),
      signal,
    );
    if (answer.status === 429) throw this.#rateLimited(ref, answer, 'registry');
    return answer;
  }

  /** Throws the failure `answer`'s status means, unless it is a success. */
  #expectOk(ref: ImageReference, answer: Answer, login: RegistryLogin | undefined): void {
    const { status } = answer;
    if (status >= 200 && status < 300) return;
    if (status === 401 || status === 403) throw this.#denied(ref, status, login);
    if (status === 404) {
      throw new RegistryCheckError(
        'not_found',
        ref.registry,
        `registry ${ref.registry} has no ${ref.repository}:${ref.tag ?? ''} (HTTP 404)`,
      );
    }
    throw new RegistryCheckError(
      'unreachable',
      ref.registry,
      `registry ${ref.registry} answered HTTP ${status} for ${ref.repository}:${ref.tag ?? ''}`,
    );
  }

  #denied(
    ref: ImageReference,
    status: number,
    login: RegistryLogin | undefined,
    by = 'registry',
  ): RegistryCheckError {
    const hint = login === undefined ? ', with no login for it in registry.authFile' : '';
    const who =
      by === 'registry' ? `registry ${ref.registry}` : `the token service of registry ${ref.registry}`;
    return new RegistryCheckError(
      'denied',
      ref.registry,
      `${who} denied access to ${ref.repository} (HTTP ${status}${hint})`,
    );
  }

  #invalid(ref: ImageReference, what: string): RegistryCheckError {
    return new RegistryCheckError(
      'invalid',
      ref.registry,
      `registry ${ref.registry} answered ${what} for ${ref.repository}:${ref.tag ?? ''}`,
    );
  }

  #rateLimited(ref: ImageReference, answer: Answer, by: 'registry' | 'token service'): RegistryCheckError {
    const retryAfterMs = this.#limiter.rateLimited(
      ref.registry,
      parseRetryAfter(answer.headers.get('retry-after'), this.#clock.date()),
    );
    const who =
      by === 'registry' ? `registry ${ref.registry}` : `the token service of registry ${ref.registry}`;
    return new RegistryCheckError(
      'rate_limited',
      ref.registry,
      `${who} answered HTTP 429 for ${ref.repository}: not asked again for ${Math.ceil(retryAfterMs / 1000)} s`,
      { retryAfterMs },
    );
  }

  /** The `Authorization` that answers a 401's challenges, or undefined when none can be answered. */
  async #answerChallenge(
    ref: ImageReference,
    login: RegistryLogin | undefined,
    header: string | null,
    signal: AbortSignal | undefined,
  ): Promise<string | undefined> {
    const challenges = parseChallenges(header);
    const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params.has('realm'));
    if (bearer !== undefined) {
      this.#basic.delete(ref.registry);
      return this.#token(ref, login, bearer, signal);
    }
    if (challenges.some((c) => c.scheme === 'basic')) {
      this.#basic.add(ref.registry);
      return login === undefined || login.auth === '' ? undefined : `Basic ${login.auth}`;
    }
    return undefined;
  }

  /**
   * A token from the challenge's realm for pulling `ref`'s repository: with the identity token by
   * OAuth2 (`refresh_token` grant, POST), else with the Basic login, else anonymously (GET).
   */
  async #token(
    ref: ImageReference,
    login: RegistryLogin | undefined,
    challenge: AuthChallenge,
    signal: AbortSignal | undefined,
  ): Promise<string> {
    let realm: URL;
    try {
      realm = new URL(challenge.params.get('realm') ?? '');
    } catch {
      throw this.#invalid(ref, 'a Bearer challenge whose realm is no URL');
    }
    if (realm.protocol !== 'https:' && realm.protocol !== 'http:') {
      throw this.#invalid(ref, 'a Bearer challenge whose realm is no http(s) URL');
    }
    const service = challenge.params.get('service');
    const scope = challenge.params.get('scope') ?? `repository:${ref.repository}:pull`;
    const headers: Record<string, string> = { accept: 'application/json' };
    let init: RequestInit;
    if (login?.identitytoken !== undefined && login.identitytoken !== '') {
      const form = new URLSearchParams({ grant_type: 'refresh_token', client_id: 'stackd' });
      if (service !== undefined) form.set('service', service);
      form.set('scope', scope);
      form.set('refresh_token', login.identitytoken);
      headers['content-type'] = 'application/x-www-form-urlencoded';
      init = { method: 'POST', headers, body: form.toString() };
    } else {
      if (service !== undefined) realm.searchParams.set('service', service);
      realm.searchParams.append('scope', scope);
      if (login !== undefined && login.auth !== '') headers['authorization'] = `Basic ${login.auth}`;
      init = { method: 'GET', headers };
    }
    const who = `the token service of registry ${ref.registry}`;
    const answer = await this.#send(ref, who, realm.toString(), init, MAX_TOKEN_BYTES, signal);
    const { status } = answer;
    if (status === 429) throw this.#rateLimited(ref, answer, 'token service');
    if (status === 401 || status === 403) throw this.#denied(ref, status, login, 'token service');
    if (status < 200 || status >= 300) {
      throw new RegistryCheckError(
        'unreachable',
        ref.registry,
        `the token service of registry ${ref.registry} answered HTTP ${status} for ${ref.repository}`,
      );
    }
    let data: unknown;
    try {
      data = JSON.parse(answer.body?.toString('utf8') ?? '') as unknown;
    } catch {
      // Not kept as the cause: V8's message quotes the text, which may hold a token.
      data = undefined;
    }
    const fields = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
    const token = fields['token'] ?? fields['access_token'];
    if (typeof token !== 'string' || token === '') {
      throw new RegistryCheckError(
        'invalid',
        ref.registry,
        `the token service of registry ${ref.registry} answered no token for ${ref.repository} (HTTP ${status})`,
      );
    }
    const expiresIn = fields['expires_in'];
    const seconds = typeof expiresIn === 'number' && expiresIn > 0 ? expiresIn : DEFAULT_TOKEN_SECONDS;
    const authorization = `Bearer ${token}`;
    this.#tokens.set(this.#tokenKey(ref, login), {
      authorization,
      expiresAt: this.#clock.now() + seconds * 1000,
    });
    return authorization;
  }

  /**
   * One HTTP request to `who` (for messages), given up after the timeout: its answer with at most `maxBody` bytes of body
   * read (0: the body is dropped). A failure to connect, resolve or answer in time is `unreachable`.
   */
  async #send(
    ref: ImageReference,
    who: string,
    url: string,
    init: RequestInit,
    maxBody: number,
    signal: AbortSignal | undefined,
  ): Promise<Answer> {
    if (signal?.aborted === true) throw signal.reason as Error;
    const controller = new AbortController();
    const timeout = new Error('timed out');
    const timer = this.#clock.setTimeout(() => {
      controller.abort(timeout);
    }, this.#timeoutMs);
    const onAbort = (): void => {
      controller.abort();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const response = await this.#fetch(url, { ...init, signal: controller.signal, redirect: 'follow' });
      let body: Buffer | undefined;
      if (maxBody > 0) body = await readBody(response, maxBody);
      else await response.body?.cancel();
      return { status: response.status, headers: response.headers, body };
    } catch (error) {
      if (aborted(signal)) throw signal?.reason as Error;
      const message =
        controller.signal.reason === timeout
          ? `${who} did not answer within ${this.#timeoutMs} ms for ${ref.repository}`
          : `${who} is unreachable for ${ref.repository} (${reasonOf(error)})`;
      throw new RegistryCheckError('unreachable', ref.registry, message, { cause: error });
    } finally {
      this.#clock.clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }
}
