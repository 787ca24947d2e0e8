/**
 * Sends outbound requests (notifications, commit statuses) in the background: one queue per
 * target, one request at a time per target, bounded retries with backoff, a timeout per attempt.
 * Never throws and never blocks the caller; every delivery ends in exactly one `onResult`.
 */

import { backoffDelay, sleep, type Backoff, type Clock } from '../../../pkg/clock/index.js';
import type { DeliveryResult, OutboundRequest } from '../types.js';

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_RETRIES = 3;
export const DEFAULT_BACKOFF: Backoff = { baseMs: 1000, maxMs: 30_000 };
/** Requests waiting per target; beyond it the oldest is dropped (a dead target must not grow memory). */
export const DEFAULT_QUEUE_LIMIT = 100;

export interface DeliveryDetail {
  readonly attempts: number;
  /** The last HTTP status, when a response came. */
  readonly status?: number;
  /** Why it failed, without the URL (it may hold a token): `HTTP 500`, `timed out after 10 s`, … */
  readonly error?: string;
}

export type OnResult = (target: string, result: DeliveryResult, detail: DeliveryDetail) => void;

export interface DeliveryOptions {
  readonly clock: Clock;
  readonly timeoutMs: number;
  /** Extra attempts after the first, at most. */
  readonly retries: number;
  readonly backoff: Backoff;
  readonly fetch?: typeof fetch;
  readonly onResult?: OnResult;
  readonly queueLimit?: number;
}

/** The part of `Delivery` its users need (CommitStatuses takes any such sender). */
export interface Sender {
  send(target: string, request: OutboundRequest): void;
  idle?(): Promise<void>;
}

interface Lane {
  readonly items: OutboundRequest[];
  running: boolean;
}

class TimeoutError extends Error {}
class ClosedError extends Error {}

interface Attempt {
  readonly ok: boolean;
  readonly retry: boolean;
  readonly status?: number;
  readonly error?: string;
  /** The server's Retry-After, in ms. */
  readonly retryAfterMs?: number;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/** Node's network error codes, in words; the message itself may name the host and is not used. */
const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'name resolution failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connect timed out',
  EPIPE: 'connection closed',
  UND_ERR_SOCKET: 'connection closed',
  UND_ERR_CONNECT_TIMEOUT: 'connect timed out',
  UND_ERR_HEADERS_TIMEOUT: 'no response headers',
  UND_ERR_BODY_TIMEOUT: 'response body timed out',
  CERT_HAS_EXPIRED: 'TLS: certificate has expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'TLS: self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'TLS: self-signed certificate in chain',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS: unable to verify the certificate',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS: certificate does not match the host',
};

function fieldOf(value: unknown, field: string): unknown {
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[field] : undefined;
}

function codeOf(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e !== null && typeof e === 'object' && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    // Happy eyeballs (several addresses) fails with an AggregateError of each attempt's error.
    const errors = (e as { errors?: unknown }).errors;
    e =
      Array.isArray(errors) && errors.length > 0 ? (errors[0] as unknown) : (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function networkError(error: unknown): string {
  const code = codeOf(error);
  if (code === undefined) return 'network error';
  return NETWORK_CODES[code] ?? `network error (${code})`;
}

/** Retry-After: delay-seconds, or an HTTP date (RFC 9110 §10.2.3). */
function retryAfterMs(value: string | null, clock: Clock): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - clock.date().getTime());
}

/** Responses read before the rest is dropped: the APIs answer a few hundred bytes. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/** Reads (a bounded part of) the response, under the attempt's timeout, so the connection is reused. */
async function discardBody(response: Response): Promise<void> {
  if (response.body === null) return;
  const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
  let read = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    read += value.byteLength;
    if (read > MAX_RESPONSE_BYTES) {
      await reader.cancel();
      return;
    }
  }
}

export class Delivery implements Sender {
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #retries: number;
  readonly #backoff: Backoff;
  readonly #fetch: typeof fetch;
  readonly #onResult: OnResult | undefined;
  readonly #queueLimit: number;
  readonly #lanes = new Map<string, Lane>();
  readonly #running = new Set<Promise<void>>();
  readonly #closing = new AbortController();

  constructor(options: DeliveryOptions) {
    this.#clock = options.clock;
    this.#timeoutMs = options.timeoutMs;
    this.#retries = Math.max(0, Math.floor(options.retries));
    this.#backoff = options.backoff;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#onResult = options.onResult;
    this.#queueLimit = Math.max(1, options.queueLimit ?? DEFAULT_QUEUE_LIMIT);
  }

  /** Queues `request` for `target` (a name for results, never a URL); returns at once. */
  send(target: string, request: OutboundRequest): void {
    if (this.#closing.signal.aborted) {
      this.#report(target, 'failed', { attempts: 0, error: 'closed' });
      return;
    }
    let lane = this.#lanes.get(target);
    if (lane === undefined) {
      lane = { items: [], running: false };
      this.#lanes.set(target, lane);
    }
    lane.items.push(request);
    while (lane.items.length > this.#queueLimit) {
      lane.items.shift();
      this.#report(target, 'failed', { attempts: 0, error: 'queue full' });
    }
    if (!lane.running) {
      lane.running = true;
      const run = this.#drain(target, lane).finally(() => this.#running.delete(run));
      this.#running.add(run);
    }
  }

  /** Resolves once every queued delivery has ended (its `onResult` called). */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all([...this.#running]);
  }

  /** Aborts the requests in flight and drops the queued ones (each reported `failed`, `closed`). */
  close(): void {
    this.#closing.abort(new ClosedError('closed'));
    for (const [target, lane] of this.#lanes) {
      lane.items.splice(0).forEach(() => {
        this.#report(target, 'failed', { attempts: 0, error: 'closed' });
      });
    }
  }

  async #drain(target: string, lane: Lane): Promise<void> {
    try {
      for (let request = lane.items.shift(); request !== undefined; request = lane.items.shift()) {
        await this.#deliver(target, request);
      }
    } finally {
      lane.running = false;
      if (lane.items.length === 0) this.#lanes.delete(target);
    }
  }

  async #deliver(target: string, request: OutboundRequest): Promise<void> {
    let last: Attempt = { ok: false, retry: false, error: 'not sent' };
    let attempts = 0;
    while (attempts <= this.#retries) {
      if (this.#closing.signal.aborted) {
        last = { ok: false, retry: false, error: 'closed' };
        break;
      }
      attempts++;
      last = await this.#attempt(request);
      if (last.ok || !last.retry || attempts > this.#retries) break;
      const delay = Math.min(
        this.#backoff.maxMs,
        last.retryAfterMs ?? backoffDelay(attempts - 1, this.#backoff),
      );
      try {
        await sleep(this.#clock, delay, this.#closing.signal);
      } catch {
        last = {
          ok: false,
          retry: false,
          error: 'closed',
          ...(last.status === undefined ? {} : { status: last.status }),
        };
        break;
      }
    }
    const detail: DeliveryDetail = {
      attempts,
      ...(last.status === undefined ? {} : { status: last.status }),
      ...(last.ok || last.error === undefined ? {} : { error: last.error }),
    };
    this.#report(target, last.ok ? 'sent' : 'failed', detail);
  }

  async #attempt(request: OutboundRequest): Promise<Attempt> {
    const controller = new AbortController();
    const onClose = (): void => {
      controller.abort(this.#closing.signal.reason);
    };
    this.#closing.signal.addEventListener('abort', onClose, { once: true });
    const timer = this.#clock.setTimeout(() => {
      controller.abort(new TimeoutError('timeout'));
    }, this.#timeoutMs);
    try {
      const response = await this.#fetch(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body,
        signal: controller.signal,
        // A redirected POST turns into a GET elsewhere; a moved endpoint is a configuration error.
        redirect: 'manual',
      });
      await discardBody(response);
      const status = response.status;
      if (status >= 200 && status < 300) return { ok: true, retry: false, status };
      const retry = status >= 500 || status === 429;
      const after = retry ? retryAfterMs(response.headers.get('retry-after'), this.#clock) : undefined;
      return {
        ok: false,
        retry,
        status,
        error: `HTTP ${status}`,
        ...(after === undefined ? {} : { retryAfterMs: after }),
      };
    } catch (error) {
      const reason: unknown = controller.signal.aborted ? controller.signal.reason : undefined;
      if (reason instanceof ClosedError) return { ok: false, retry: false, error: 'closed' };
      if (reason instanceof TimeoutError) {
        return { ok: false, retry: true, error: `timed out after ${seconds(this.#timeoutMs)}` };
      }
      // fetch refuses a malformed request (a bad URL, a header that is not Latin-1) with a
      // TypeError of its own, before any I/O: retrying cannot help.
      // (Checked by shape: errors from undici may come from another realm, as under jest.)
      const cause = fieldOf(error, 'cause');
      if (fieldOf(error, 'name') === 'TypeError' && cause === undefined) {
        return { ok: false, retry: false, error: 'invalid request' };
      }
      if (codeOf(error) === 'ERR_INVALID_URL') return { ok: false, retry: false, error: 'invalid URL' };
      // The fetch standard's blocked ports (25, 6000, …): refused before connecting.
      if (fieldOf(cause, 'message') === 'bad port') {
        return { ok: false, retry: false, error: 'port not allowed by fetch' };
      }
      return { ok: false, retry: true, error: networkError(error) };
    } finally {
      this.#clock.clearTimeout(timer);
      this.#closing.signal.removeEventListener('abort', onClose);
    }
  }

  #report(target: string, result: DeliveryResult, detail: DeliveryDetail): void {
    try {
      this.#onResult?.(target, result, detail);
    } catch {
      // The caller's bookkeeping must not break delivery of the next request.
    }
  }
}
