/** Rate limiters decide how long a key waits before it is retried (client-go's `workqueue` limiters). */

import { backoffDelay, realClock, type Clock } from '../clock/index.js';
import { checkInteger, checkNumber, invalid } from '../validate/index.js';

/** Decides the delay before a key's next retry and tracks its failures. */
export interface RateLimiter {
  /** Milliseconds to wait before retrying `key`; records one more failure of it. */
  when(key: string): number;
  /** Clears `key`'s failures (it succeeded, or will not be retried). */
  forget(key: string): void;
  /** How many times `key` has been retried since it was last forgotten. */
  numRequeues(key: string): number;
}

export interface ExponentialRateLimiterOptions {
  /**
   * Delay after the first failure, in milliseconds; each further failure doubles it.
   * @default 2000
   */
  readonly baseDelay?: number;
  /**
   * The cap on the delay, in milliseconds.
   * @default 300000
   */
  readonly maxDelay?: number;
}

class ExponentialRateLimiter implements RateLimiter {
  readonly #baseDelay: number;
  readonly #maxDelay: number;
  /** Failures per key since it was last forgotten; keys without failures are absent. */
  readonly #failures = new Map<string, number>();

  constructor({ baseDelay = 2000, maxDelay = 300_000 }: ExponentialRateLimiterOptions) {
    checkNumber('baseDelay', baseDelay, 0);
    checkNumber('maxDelay', maxDelay, baseDelay);
    this.#baseDelay = baseDelay;
    this.#maxDelay = maxDelay;
  }

  when(key: string): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    return backoffDelay(failures, { baseMs: this.#baseDelay, maxMs: this.#maxDelay });
  }

  forget(key: string): void {
    this.#failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.#failures.get(key) ?? 0;
  }
}

/** Per-key exponential backoff: `baseDelay * 2^(failures - 1)`, capped at `maxDelay`. */
export function createExponentialRateLimiter(options: ExponentialRateLimiterOptions = {}): RateLimiter {
  return new ExponentialRateLimiter(options);
}

export interface BucketRateLimiterOptions {
  /**
   * Tokens added per second (the sustained rate of retries across all keys).
   * @default 10
   */
  readonly qps?: number;
  /**
   * Bucket size: how many retries may go at once before `qps` applies.
   * @default 100
   */
  readonly burst?: number;
  /**
   * Source of time for refilling the bucket.
   * @default realClock
   */
  readonly clock?: Clock;
}

/**
 * A token bucket kept as the time at which it would be empty (GCRA): each `when` takes a
 * token, going into debt if needed, and the delay is the time until that token exists.
 */
class BucketRateLimiter implements RateLimiter {
  readonly #clock: Clock;
  /** Milliseconds to earn one token. */
  readonly #interval: number;
  readonly #burst: number;
  /** When the bucket would hold zero tokens, given all tokens taken so far; <= now means it is full. */
  #emptyAt = -Infinity;

  constructor({ qps = 10, burst = 100, clock = realClock }: BucketRateLimiterOptions) {
    if (typeof qps !== 'number' || !(qps > 0) || qps === Infinity) {
      throw invalid('qps', 'a finite number greater than 0', qps);
    }
    checkInteger('burst', burst, 1);
    this.#clock = clock;
    this.#interval = 1000 / qps;
    this.#burst = burst;
  }

  when(): number {
    const now = this.#clock.now();
    const full = now - this.#burst * this.#interval;
    this.#emptyAt = Math.max(this.#emptyAt, full) + this.#interval;
    return Math.max(0, this.#emptyAt - now);
  }

  forget(): void {
    // The bucket is shared by all keys; there is nothing per key to forget.
  }

  numRequeues(): number {
    return 0;
  }
}

/** A global token bucket: `burst` retries at once, then `qps` per second, whatever the key. */
export function createBucketRateLimiter(options: BucketRateLimiterOptions = {}): RateLimiter {
  return new BucketRateLimiter(options);
}

class MaxOfRateLimiter implements RateLimiter {
  readonly #limiters: readonly RateLimiter[];

  constructor(limiters: readonly RateLimiter[]) {
    if (limiters.length === 0) throw invalid('limiters', 'at least one rate limiter', limiters.length);
    this.#limiters = limiters;
  }

  when(key: string): number {
    // Every limiter records the failure, so no short-circuit.
    return Math.max(...this.#limiters.map((limiter) => limiter.when(key)));
  }

  forget(key: string): void {
    for (const limiter of this.#limiters) limiter.forget(key);
  }

  numRequeues(key: string): number {
    return Math.max(...this.#limiters.map((limiter) => limiter.numRequeues(key)));
  }
}

/** Combines limiters: the longest delay and the highest requeue count win; `forget` reaches all. */
export function createMaxOfRateLimiter(...limiters: readonly RateLimiter[]): RateLimiter {
  return new MaxOfRateLimiter(limiters);
}

export interface DefaultControllerRateLimiterOptions {
  /**
   * Source of time for the token bucket.
   * @default realClock
   */
  readonly clock?: Clock;
}

/**
 * client-go's `DefaultControllerRateLimiter` shape: max(per-key exponential, global bucket of 10 qps,
 * burst 100), but with stackd's per-key 2 s → 5 min (client-go's default item backoff is 5 ms → 1000 s).
 */
export function createDefaultControllerRateLimiter(
  options: DefaultControllerRateLimiterOptions = {},
): RateLimiter {
  return createMaxOfRateLimiter(
    createExponentialRateLimiter({ baseDelay: 2000, maxDelay: 300_000 }),
    createBucketRateLimiter({ qps: 10, burst: 100, ...options }),
  );
}
