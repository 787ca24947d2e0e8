/**
 * Deliveries seen recently. A signature proves who sent a body, not when: a captured delivery
 * could be sent again. So each verified delivery is remembered for a window by its delivery id
 * (`X-GitHub-Delivery` and the like) and by its body's digest, and a second one matching either
 * is answered without a refresh. Only verified deliveries are recorded, so unsigned requests
 * cannot block real ones.
 */
import { realClock, type Clock } from '../../pkg/clock/index.js';
import { createHash } from 'node:crypto';
import type { Headers } from './webhook_signature.js';

/** Headers naming a delivery, most specific first (GitLab: `Idempotency-Key`, `X-Gitlab-Event-UUID`). */
const DELIVERY_HEADERS = [
  'x-github-delivery',
  'x-forgejo-delivery',
  'x-gitea-delivery',
  'x-gogs-delivery',
  'idempotency-key',
  'x-gitlab-event-uuid',
] as const;

export interface DeliveryLogOptions {
  /** How long a delivery is remembered, in ms. @default 3600000 (1 h) */
  readonly windowMs?: number;
  /** Most deliveries remembered (the oldest go first). @default 10000 */
  readonly max?: number;
  /** @default realClock */
  readonly clock?: Clock;
}

export class DeliveryLog {
  readonly #windowMs: number;
  readonly #max: number;
  readonly #clock: Clock;
  /** Key → when it expires; insertion order is age order (a key is never re-inserted). */
  readonly #seen = new Map<string, number>();

  constructor(options: DeliveryLogOptions = {}) {
    this.#windowMs = options.windowMs ?? 3_600_000;
    this.#max = options.max ?? 10_000;
    this.#clock = options.clock ?? realClock;
  }

  /**
   * Whether this delivery was seen within the window (then: the delivery id it matched, or
   * `same body`); if not, it is recorded.
   */
  replayOf(headers: Headers, raw: Buffer): string | undefined {
    const now = this.#clock.now();
    for (const [key, expires] of this.#seen) {
      if (expires > now && this.#seen.size <= this.#max) break;
      this.#seen.delete(key);
    }
    const keys = [`body:${createHash('sha256').update(raw).digest('hex')}`];
    for (const name of DELIVERY_HEADERS) {
      const value = headers[name];
      if (typeof value === 'string' && value !== '') keys.push(`${name}:${value}`);
    }
    const match = keys.find((key) => this.#seen.has(key));
    if (match !== undefined)
      return match.startsWith('body:') ? 'same body' : match.replace(/^[^:]*:/, 'delivery ');
    for (const key of keys) this.#seen.set(key, now + this.#windowMs);
    return undefined;
  }
}
