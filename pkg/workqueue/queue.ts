/** The keyed work queue: FIFO, deduplicating, and never handing out one key twice at a time. */

import { realClock, type Clock } from '../clock/clock.js';
import type { WorkQueueMetrics } from './metrics.js';
import { checkKey } from './check_key.js';

export interface QueueOptions {
  /**
   * Source of time for the duration metrics and (in delaying queues) for timers.
   * @default realClock
   */
  readonly clock?: Clock;
  /**
   * Callbacks for depth, adds, queue and work durations, and retries.
   * @default {} (no-op)
   */
  readonly metrics?: WorkQueueMetrics;
}

/**
 * A queue of keys with client-go semantics. A key is waiting, processing, or both (re-added
 * while being processed); it is handed out to one worker at a time and queued at most once.
 */
export interface Queue {
  /** Queues `key`; a no-op if it is already waiting or the queue is shutting down. A key being processed is queued again once `done`. */
  add(key: string): void;
  /** Waits for the next key; resolves `undefined` once the queue is shut down and empty. Call `done(key)` when finished with it. */
  get(): Promise<string | undefined>;
  /** Marks `key` as processed; if it was added meanwhile, it is queued again. A key that is not being processed is ignored. */
  done(key: string): void;
  /** The number of keys ready to be handed out. */
  len(): number;
  /** Whether `key` is waiting (or, in a delaying queue, waiting for its delay) or being processed. */
  pending(key: string): boolean;
  /** Stops accepting keys; keys already waiting are still handed out, then `get()` resolves `undefined`. */
  shutDown(): void;
  /** Whether `shutDown()` was called. */
  readonly shuttingDown: boolean;
  /** Aborted, synchronously, when `shutDown()` is called. */
  readonly shutdownSignal: AbortSignal;
  /** Seconds the longest-running key has been processed so far (0 when idle): a gauge to poll. */
  longestRunningSeconds(): number;
}

export class WorkQueue implements Queue {
  readonly #clock: Clock;
  readonly #metrics: WorkQueueMetrics;
  /** Keys ready to hand out, in order; each one is also in `#dirty` and not in `#processing`. */
  readonly #queue: string[] = [];
  /** Keys that need processing: every key of `#queue`, plus keys re-added while processing. */
  readonly #dirty = new Set<string>();
  /** Keys handed out and not yet done, with the time `get()` handed them out. */
  readonly #processing = new Map<string, number>();
  /** When each dirty key was added, for the queue duration metric. */
  readonly #addedAt = new Map<string, number>();
  /** Pending `get()` calls, oldest first; non-empty only while `#queue` is empty. */
  readonly #getters: ((key: string | undefined) => void)[] = [];
  readonly #shutdown = new AbortController();

  constructor(options: QueueOptions = {}) {
    this.#clock = options.clock ?? realClock;
    this.#metrics = options.metrics ?? {};
  }

  add(key: string): void {
    checkKey(key);
    if (this.shuttingDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    this.#addedAt.set(key, this.#clock.now());
    this.#metrics.add?.();
    this.#metrics.depth?.(this.#dirty.size);
    if (!this.#processing.has(key)) this.#push(key);
  }

  get(): Promise<string | undefined> {
    const key = this.#queue.shift();
    if (key !== undefined) return Promise.resolve(this.#handOut(key));
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#getters.push(resolve));
  }

  done(key: string): void {
    checkKey(key);
    const startedAt = this.#processing.get(key);
    if (startedAt === undefined) return;
    this.#processing.delete(key);
    this.#metrics.workDuration?.((this.#clock.now() - startedAt) / 1000);
    if (this.#dirty.has(key)) this.#push(key);
  }

  len(): number {
    return this.#queue.length;
  }

  pending(key: string): boolean {
    return this.#dirty.has(key) || this.#processing.has(key);
  }

  shutDown(): void {
    if (this.shuttingDown) return;
    this.#shutdown.abort();
    // Getters wait only while the queue is empty, so there is nothing left to hand them.
    for (const resolve of this.#getters.splice(0)) resolve(undefined);
  }

  get shuttingDown(): boolean {
    return this.#shutdown.signal.aborted;
  }

  get shutdownSignal(): AbortSignal {
    return this.#shutdown.signal;
  }

  longestRunningSeconds(): number {
    let oldest = Infinity;
    for (const startedAt of this.#processing.values()) oldest = Math.min(oldest, startedAt);
    return oldest === Infinity ? 0 : (this.#clock.now() - oldest) / 1000;
  }

  /** Queues a dirty key that is not being processed, straight to a waiting getter if any. */
  #push(key: string): void {
    const resolve = this.#getters.shift();
    if (resolve === undefined) this.#queue.push(key);
    else resolve(this.#handOut(key));
  }

  /** Moves a key from waiting to processing. */
  #handOut(key: string): string {
    const now = this.#clock.now();
    this.#dirty.delete(key);
    this.#processing.set(key, now);
    this.#metrics.queueDuration?.((now - (this.#addedAt.get(key) ?? now)) / 1000);
    this.#addedAt.delete(key);
    this.#metrics.depth?.(this.#dirty.size);
    return key;
  }
}

/** Creates a keyed work queue. */
export function createQueue(options: QueueOptions = {}): Queue {
  return new WorkQueue(options);
}
