/** A manually driven `Clock` for exact, fast tests of timing: time moves only by `advance`. */

import { checkNumber } from '../validate/index.js';
import type { Clock, TimerHandle } from './clock.js';

interface FakeTimer {
  readonly at: number;
  readonly fn: () => void;
}

/** The wall-clock time of `now() === 0` unless a test says otherwise: 2026-01-01T00:00:00Z. */
export const FAKE_EPOCH_MS = Date.UTC(2026, 0, 1);

function checkMs(name: string, value: number): void {
  checkNumber(name, value, 0);
}

export class FakeClock implements Clock {
  #now: number;
  readonly #epochMs: number;
  /** Pending timers by handle; handles grow, so iteration order breaks ties between equal `at`. */
  readonly #timers = new Map<number, FakeTimer>();
  #nextHandle = 1;

  /**
   * @param start The initial value of `now()`.
   * @param epochMs The wall-clock time (`date()`) at `now() === 0`.
   */
  constructor(start = 0, epochMs = FAKE_EPOCH_MS) {
    checkMs('start', start);
    this.#now = start;
    this.#epochMs = epochMs;
  }

  now(): number {
    return this.#now;
  }

  date(): Date {
    return new Date(this.#epochMs + this.#now);
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

  /** The delays from now of the pending timers, soonest first. */
  pendingDelays(): number[] {
    return [...this.#timers.values()].map((timer) => timer.at - this.#now).sort((a, b) => a - b);
  }

  #nextDue(target: number): [number, FakeTimer] | undefined {
    let next: [number, FakeTimer] | undefined;
    for (const entry of this.#timers) {
      if (entry[1].at <= target && (next === undefined || entry[1].at < next[1].at)) next = entry;
    }
    return next;
  }

  /**
   * Moves time forward by `ms`, firing every timer that falls due, in deadline order, with
   * `now()` set to each timer's deadline while it runs (timers they set fire too if due).
   */
  advance(ms: number): void {
    checkMs('ms', ms);
    const target = this.#now + ms;
    for (let next = this.#nextDue(target); next !== undefined; next = this.#nextDue(target)) {
      this.#timers.delete(next[0]);
      this.#now = next[1].at;
      next[1].fn();
    }
    this.#now = target;
  }

  /**
   * `advance` for asynchronous code: lets pending promise callbacks and I/O callbacks run before
   * and after each timer, so work a timer starts can set the next timer before time moves on.
   */
  async advanceAsync(ms: number): Promise<void> {
    checkMs('ms', ms);
    const target = this.#now + ms;
    await settle();
    for (let next = this.#nextDue(target); next !== undefined; next = this.#nextDue(target)) {
      this.#timers.delete(next[0]);
      this.#now = next[1].at;
      next[1].fn();
      await settle();
    }
    this.#now = target;
    await settle();
  }
}

/** Lets queued promise callbacks run (a few macrotask turns, enough for chained awaits). */
async function settle(): Promise<void> {
  for (let turn = 0; turn < 5; turn++) await new Promise<void>((resolve) => setImmediate(resolve));
}
