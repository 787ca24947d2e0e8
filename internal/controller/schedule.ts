/**
 * Every retry and poll schedule of the controller, in one module: "where does the retry schedule
 * live?" has this answer. Times are milliseconds on the controller's `Clock`.
 */
import type { Backoff } from '../../pkg/clock/index.js';

/**
 * A failed fetch is retried 5 s after the first failure, doubling with each consecutive failure
 * up to 5 min (`backoffDelay`); a successful fetch starts the schedule over.
 */
export const FETCH_RETRY: Backoff = Object.freeze({ baseMs: 5_000, maxMs: 300_000 });

/** A refresh queued behind a running one starts this long after it: a flood costs ~1 fetch a second. */
export const REFRESH_MIN_GAP_MS = 1_000;

/**
 * Each poll waits `source.pollInterval` lengthened by up to this fraction of it, at random
 * (`jittered`), so stackds started together do not fetch together.
 */
export const POLL_JITTER = 0.1;

/**
 * A stack whose reconcile failed (not terminally) is retried 2 s after the first failure,
 * doubling up to 5 min. stackd's own default (client-go's default item backoff is 5 ms → 1000 s).
 */
export const STACK_RETRY: Backoff = Object.freeze({ baseMs: 2_000, maxMs: 300_000 });

/** The token bucket over every retry, whatever the key: 10 a second, bursts of 100 (client-go's). */
export const RETRY_BUCKET = Object.freeze({ qps: 10, burst: 100 });
