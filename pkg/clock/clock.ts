/**
 * Time, injected: every timer, timeout and timestamp of stackd goes through one `Clock`, so each
 * schedule is unit-testable on a `FakeClock` (`fake.ts`) with exact times.
 */

/** An opaque timer handle: pass it back to the `clearTimeout` of the clock that made it. */
export type TimerHandle = unknown;

/** A source of time and one-shot timers. */
export interface Clock {
  /** Milliseconds on a monotonic scale; only differences are meaningful (timers, durations). */
  now(): number;
  /** The wall-clock time, for timestamps people read (records, history, API, metrics). */
  date(): Date;
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
    this.#timer =
      remaining > maxTimeout
        ? setTimeout(() => {
            this.#arm(fn, at);
          }, maxTimeout)
        : setTimeout(fn, remaining);
  }

  clear(): void {
    clearTimeout(this.#timer);
  }
}

/** The real clock: `performance.now()`, `new Date()` and Node timers (delays beyond ~24.8 days included). */
export const realClock: Clock = {
  now: () => performance.now(),
  date: () => new Date(),
  setTimeout: (fn, ms) => new RealTimer(fn, ms),
  clearTimeout: (handle) => {
    if (handle instanceof RealTimer) handle.clear();
  },
};

/** Resolves `ms` from now on `clock`; rejects with the signal's reason when `signal` aborts first. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clock.clearTimeout(handle);
      reject(signal?.reason as Error);
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Whole milliseconds from `started` (a `clock.now()`) to now: durations people read are integers. */
export function elapsedMs(clock: Clock, started: number): number {
  return Math.round(clock.now() - started);
}

/** Whole milliseconds from now to `deadline` (a `clock.now()` value), rounded up; 0 once passed. */
export function remainingMs(clock: Clock, deadline: number): number {
  return Math.max(0, Math.ceil(deadline - clock.now()));
}
