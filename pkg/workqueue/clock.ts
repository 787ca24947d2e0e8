/** Time, injected: every timer and timestamp of the work queue goes through a `Clock`. */

/** An opaque timer handle: pass it back to the `clearTimeout` of the clock that made it. */
export type TimerHandle = unknown;

/** A source of time and one-shot timers. Tests inject `FakeClock` (`fake_clock.ts`). */
export interface Clock {
  /** Milliseconds on a monotonic scale; only differences are meaningful. */
  now(): number;
  /** Calls `fn` once, `ms` milliseconds from now. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer that has not fired yet; a fired or unknown handle is ignored. */
  clearTimeout(handle: TimerHandle): void;
}

/** Node's timers clamp delays above this to 1 ms, so longer delays are chained. */
const maxTimeout = 2 ** 31 - 1;

class RealTimer {
  #timer: NodeJS.Timeout | undefined;

  constructor(fn: () => void, ms: number) {
    this.#arm(fn, performance.now() + Math.max(0, ms));
  }

  #arm(fn: () => void, at: number): void {
    const remaining = Math.max(0, at - performance.now());
    if (remaining > maxTimeout) {
      this.#timer = setTimeout(() => {
        this.#arm(fn, at);
      }, maxTimeout);
    } else {
      this.#timer = setTimeout(fn, remaining);
    }
  }

  clear(): void {
    clearTimeout(this.#timer);
  }
}

/** The real clock: `performance.now()` and Node timers (delays beyond ~24.8 days included). */
export const realClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => new RealTimer(fn, ms),
  clearTimeout: (handle) => {
    if (handle instanceof RealTimer) handle.clear();
  },
};
