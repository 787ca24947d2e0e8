/** A manually driven `Clock` for exact, fast tests of timing: time moves only by `advance`. */

import type { Clock, TimerHandle } from './clock.js';
import { checkNumber, invalid } from './validate.js';

interface FakeTimer {
  readonly at: number;
  readonly fn: () => void;
}

export class FakeClock implements Clock {
  #now: number;
  /** Pending timers by handle; handles grow, so iteration order breaks ties between equal `at`. */
  readonly #timers = new Map<number, FakeTimer>();
  #nextHandle = 1;

  /** @param start The initial value of `now()`. */
  constructor(start = 0) {
    if (!Number.isFinite(start)) throw invalid('start', 'a finite number', start);
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): number {
    const handle = this.#nextHandle++;
    this.#timers.set(handle, { at: this.#now + (ms > 0 ? ms : 0), fn });
    return handle;
  }

  clearTimeout(handle: TimerHandle): void {
    if (typeof handle === 'number') this.#timers.delete(handle);
  }

  /** The number of timers that have not fired and were not cleared. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due, in deadline order, with
   * `now()` set to each timer's deadline while it runs (timers they set fire too if due).
   */
  advance(ms: number): void {
    checkNumber('ms', ms, 0);
    const target = this.#now + ms;
    for (;;) {
      let next: [number, FakeTimer] | undefined;
      for (const entry of this.#timers) {
        if (entry[1].at <= target && (next === undefined || entry[1].at < next[1].at)) next = entry;
      }
      if (next === undefined) break;
      this.#timers.delete(next[0]);
      this.#now = next[1].at;
      next[1].fn();
    }
    this.#now = target;
  }
}
