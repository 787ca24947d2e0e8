/**
 * Refresh coalescing: however many triggers arrive, at most one refresh runs and one waits. A
 * trigger while nothing runs starts a refresh at once; one that arrives while a refresh runs waits
 * for it, and then until `minGapMs` after its start. Every caller gets the outcome of a refresh
 * that started after it called, so no trigger is lost; a burst that keeps a refresh busy costs one
 * refresh per gap, and sparse triggers (one push at a time) are never delayed. A run is given the
 * argument of the trigger that started it; a pending run, that of the latest trigger it serves.
 */
import { realClock, sleep, type Clock } from '../../pkg/clock/index.js';

export interface CoalescerOptions {
  /**
   * The least time between the start of a refresh and one queued behind it (0: back to back).
   * @default 0
   */
  readonly minGapMs?: number;
  /**
   * Source of time for the gap.
   * @default realClock
   */
  readonly clock?: Clock;
}

export class Coalescer<T = void> {
  readonly #run: (arg: T) => Promise<void>;
  readonly #minGapMs: number;
  readonly #clock: Clock;
  /** The refresh in flight. */
  #running: Promise<void> | undefined;
  /** The refresh queued behind it (or behind the gap), shared by every caller that arrived meanwhile. */
  #pending: Promise<void> | undefined;
  /** The argument the pending run will be given: the latest trigger's. */
  #pendingArg: T | undefined;
  #lastStart = Number.NEGATIVE_INFINITY;

  constructor(run: (arg: T) => Promise<void>, options: CoalescerOptions = {}) {
    this.#run = run;
    this.#minGapMs = options.minGapMs ?? 0;
    this.#clock = options.clock ?? realClock;
  }

  trigger(arg: T): Promise<void> {
    if (this.#pending !== undefined) {
      this.#pendingArg = arg;
      return this.#pending;
    }
    if (this.#running === undefined) return this.#start(arg);
    this.#pendingArg = arg;
    const pending = (async () => {
      await this.#running?.catch(() => undefined);
      const wait = this.#wait();
      if (wait > 0) await sleep(this.#clock, wait);
      return this.#start(this.#pendingArg as T);
    })();
    this.#pending = pending;
    return pending;
  }

  #wait(): number {
    return this.#lastStart + this.#minGapMs - this.#clock.now();
  }

  #start(arg: T): Promise<void> {
    this.#pending = undefined;
    this.#pendingArg = undefined;
    this.#lastStart = this.#clock.now();
    const run = this.#run(arg).finally(() => {
      if (this.#running === run) this.#running = undefined;
    });
    this.#running = run;
    return run;
  }

  /** A refresh is running or waiting to. */
  busy(): boolean {
    return this.#running !== undefined || this.#pending !== undefined;
  }

  /** Resolves when nothing is running or pending. */
  async idle(): Promise<void> {
    while (this.#running !== undefined || this.#pending !== undefined) {
      await (this.#pending ?? this.#running)?.catch(() => undefined);
    }
  }
}
