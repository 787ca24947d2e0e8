/** The rate-limiting queue: a delaying queue whose retries are spaced by a `RateLimiter`. */

import { DelayingWorkQueue, type DelayingQueue, type DelayingQueueOptions } from './delaying.js';
import type { WorkQueueMetrics } from './metrics.js';
import { createDefaultControllerRateLimiter, type RateLimiter } from './rate_limiters.js';
import { checkKey } from './check_key.js';

export interface RateLimitingQueueOptions extends DelayingQueueOptions {
  /**
   * Decides how long a failed key waits before it is retried.
   * @default createDefaultControllerRateLimiter({ clock })
   */
  readonly rateLimiter?: RateLimiter;
}

export interface RateLimitingQueue extends DelayingQueue {
  /** Re-adds `key` after the delay its rate limiter gives (a retry). Ignored once shutting down. */
  addRateLimited(key: string): void;
  /** Clears `key`'s failure history in the rate limiter (its next retry starts from the base delay). */
  forget(key: string): void;
  /** How many times `key` has been retried since it was last forgotten. */
  numRequeues(key: string): number;
}

export class RateLimitingWorkQueue extends DelayingWorkQueue implements RateLimitingQueue {
  readonly #rateLimiter: RateLimiter;
  readonly #metrics: WorkQueueMetrics;

  constructor(options: RateLimitingQueueOptions = {}) {
    super(options);
    this.#rateLimiter =
      options.rateLimiter ??
      createDefaultControllerRateLimiter(options.clock === undefined ? {} : { clock: options.clock });
    this.#metrics = options.metrics ?? {};
  }

  addRateLimited(key: string): void {
    checkKey(key);
    if (this.shuttingDown) return;
    this.#metrics.retry?.();
    this.addAfter(key, this.#rateLimiter.when(key));
  }

  forget(key: string): void {
    checkKey(key);
    this.#rateLimiter.forget(key);
  }

  numRequeues(key: string): number {
    checkKey(key);
    return this.#rateLimiter.numRequeues(key);
  }
}

/** Creates the queue a controller uses: keyed, delaying, and rate-limited on retry. */
export function createRateLimitingQueue(options: RateLimitingQueueOptions = {}): RateLimitingQueue {
  return new RateLimitingWorkQueue(options);
}
