/** The delaying queue: keys added after a delay, one timer armed for the earliest deadline. */

import { realClock, type Clock, type TimerHandle } from '../clock/clock.js';
import { DeadlineHeap } from './deadline_heap.js';
import { WorkQueue, type Queue, type QueueOptions } from './queue.js';
import { invalid } from '../validate/index.js';
import { checkKey } from './check_key.js';

export type DelayingQueueOptions = QueueOptions;

export interface DelayingQueue extends Queue {
  /**
   * Adds `key` once `ms` milliseconds have passed (now if `ms <= 0`). A key already waiting for
   * its delay keeps the earlier of its two deadlines. Ignored once shutting down.
   */
  addAfter(key: string, ms: number): void;
}

export class DelayingWorkQueue extends WorkQueue implements DelayingQueue {
  readonly #clock: Clock;
  /** The deadline of every key waiting for its delay; a heap entry with another deadline is stale. */
  readonly #deadlines = new Map<string, number>();
  /** Every entry of `#deadlines`, plus stale entries left behind when a deadline moved earlier. */
  readonly #heap = new DeadlineHeap();
  /** The one armed timer, set for at most the earliest deadline; undefined when nothing waits. */
  #timer: { readonly handle: TimerHandle; readonly at: number } | undefined;

  constructor(options: DelayingQueueOptions = {}) {
    super(options);
    this.#clock = options.clock ?? realClock;
  }

  addAfter(key: string, ms: number): void {
    checkKey(key);
    if (typeof ms !== 'number' || !Number.isFinite(ms)) throw invalid('ms', 'a finite number', ms);
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = this.#clock.now() + ms;
    const current = this.#deadlines.get(key);
    if (current !== undefined && current <= at) return;
    this.#deadlines.set(key, at);
    this.#heap.push(key, at);
    this.#arm();
  }

  override pending(key: string): boolean {
    return super.pending(key) || this.#deadlines.has(key);
  }

  override shutDown(): void {
    super.shutDown();
    this.#disarm();
    this.#deadlines.clear();
    this.#heap.clear();
  }

  /** Drops stale heap entries, then makes sure a timer is armed for the earliest deadline. */
  #arm(): void {
    let next = this.#heap.peek();
    while (next !== undefined && this.#deadlines.get(next.key) !== next.at) {
      this.#heap.pop();
      next = this.#heap.peek();
    }
    if (next === undefined) {
      this.#disarm();
      return;
    }
    if (this.#timer !== undefined && this.#timer.at <= next.at) return;
    this.#disarm();
    const at = next.at;
    this.#timer = {
      handle: this.#clock.setTimeout(() => {
        this.#fire();
      }, at - this.#clock.now()),
      at,
    };
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer.handle);
    this.#timer = undefined;
  }

  /** Adds every key that is due, in deadline order, and re-arms for the rest. */
  #fire(): void {
    this.#timer = undefined;
    const now = this.#clock.now();
    for (let next = this.#heap.peek(); next !== undefined && next.at <= now; next = this.#heap.peek()) {
      this.#heap.pop();
      if (this.#deadlines.get(next.key) !== next.at) continue;
      this.#deadlines.delete(next.key);
      this.add(next.key);
    }
    this.#arm();
  }
}

/** Creates a keyed work queue that can also add keys after a delay. */
export function createDelayingQueue(options: DelayingQueueOptions = {}): DelayingQueue {
  return new DelayingWorkQueue(options);
}
