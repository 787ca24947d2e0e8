/**
 * The controller's timed triggers, all on one `Clock`: the poll (a refresh every
 * `source.pollInterval`, jittered), the periodic resync (every stack looked at every
 * `reconcile.resyncInterval`) and the fetch retry after a failed fetch (`FETCH_RETRY`). The
 * schedules themselves live in schedule.ts.
 */
import { backoffDelay, jittered, type Clock, type TimerHandle } from '../../pkg/clock/index.js';
import { FETCH_RETRY, POLL_JITTER } from '../schedule/index.js';

/** The refresh triggers a timer fires. */
export type TimedTrigger = 'poll' | 'retry';

export interface TriggersOptions {
  readonly clock: Clock;
  /** Draws the poll jitter. */
  readonly random: () => number;
  /** Milliseconds; 0 = no polling. */
  readonly pollIntervalMs: number;
  /** Milliseconds; 0 = no periodic resync. */
  readonly resyncIntervalMs: number;
  /** Starts a refresh; a rejection is a failed fetch, reported (and retried) elsewhere. */
  readonly refresh: (trigger: TimedTrigger) => Promise<void>;
  /** Looks at every stack again. */
  readonly resync: () => void;
}

export class Triggers {
  readonly #o: TriggersOptions;
  /** The pending timers; a clock ignores a handle that fired, was cleared or was never set. */
  #poll: TimerHandle;
  #resync: TimerHandle;
  #retry: TimerHandle;
  /** Fetches failed in a row since the last success: the next retry waits `backoffDelay(#failures)`. */
  #failures = 0;
  /** Once stopped, no timer is set again. */
  #stopped = false;

  constructor(options: TriggersOptions) {
    this.#o = options;
  }

  /** Sets the first poll and resync timers. */
  start(): void {
    this.#schedulePoll();
    this.#scheduleResync();
  }

  /** Clears every timer; none is set after this. */
  stop(): void {
    this.#stopped = true;
    for (const t of [this.#poll, this.#resync, this.#retry])
      if (t !== undefined) this.#o.clock.clearTimeout(t);
  }

  /** A fetch succeeded: the next failure is retried after the base delay again. */
  fetchSucceeded(): void {
    this.#failures = 0;
  }

  /**
   * A fetch failed: a retry refresh is set (replacing any retry already set) after the delay
   * `FETCH_RETRY` gives for this many failures in a row, which is returned.
   */
  fetchFailed(): number {
    const retryMs = backoffDelay(this.#failures, FETCH_RETRY);
    this.#failures++;
    if (!this.#stopped) {
      this.#o.clock.clearTimeout(this.#retry);
      this.#retry = this.#o.clock.setTimeout(() => {
        void this.#o.refresh('retry').catch(() => undefined);
      }, retryMs);
    }
    return retryMs;
  }

  #schedulePoll(): void {
    if (this.#o.pollIntervalMs <= 0 || this.#stopped) return;
    const delay = jittered(this.#o.pollIntervalMs, POLL_JITTER, this.#o.random);
    this.#poll = this.#o.clock.setTimeout(() => {
      void this.#o
        .refresh('poll')
        .catch(() => undefined)
        .finally(() => {
          this.#schedulePoll();
        });
    }, delay);
  }

  #scheduleResync(): void {
    if (this.#o.resyncIntervalMs <= 0 || this.#stopped) return;
    this.#resync = this.#o.clock.setTimeout(() => {
      this.#o.resync();
      this.#scheduleResync();
    }, this.#o.resyncIntervalMs);
  }
}
