/**
 * Every retry, poll and wait schedule of stackd's own loops, in one module: "where does the retry
 * schedule live?" has this answer. Times are milliseconds on the injected `Clock`; each backoff is
 * walked by the one primitive, `backoffDelay` (pkg/clock). Durations operators set are config keys.
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

/** The Docker engine stopped answering: reconnect after 1 s, doubling up to 30 s. */
export const ENGINE_RECONNECT: Backoff = Object.freeze({ baseMs: 1_000, maxMs: 30_000 });

/**
 * A container list still behind the events seen for its project is re-listed after 100 ms,
 * doubling, at most `LAG_RELIST_ATTEMPTS` times (100 ms … 1.6 s).
 */
export const LAG_RELIST: Backoff = Object.freeze({ baseMs: 100, maxMs: 1_600 });
export const LAG_RELIST_ATTEMPTS = 5;

/** Events re-list a project once quiet for `quietMs`, at most `maxMs` after the first of a burst. */
export const EVENT_COALESCE = Object.freeze({ quietMs: 100, maxMs: 1_000 });

/** The longest wait for one answer of the engine (a list, or the response opening the event stream). */
export const ENGINE_REQUEST_TIMEOUT_MS = 30_000;

/** The token bucket over every retry, whatever the key: 10 a second, bursts of 100 (client-go's). */
export const RETRY_BUCKET = Object.freeze({ qps: 10, burst: 100 });

/**
 * A registry that answered a digest check with HTTP 429 and no Retry-After gets no request for
 * 30 s, doubling with each consecutive 429 up to 30 min; a check that succeeds starts it over.
 */
export const REGISTRY_BACKOFF: Backoff = Object.freeze({ baseMs: 30_000, maxMs: 1_800_000 });

/** The longest Retry-After of a 429 that is honoured as it is (Docker Hub's pull limit window). */
export const REGISTRY_RETRY_AFTER_MAX_MS = 6 * 3_600_000;

/** Requests of digest checks to one registry run one at a time, at least this far apart. */
export const REGISTRY_MIN_INTERVAL_MS = 200;

/** The longest wait for one answer of a registry or its token service (headers and body). */
export const REGISTRY_REQUEST_TIMEOUT_MS = 30_000;

/**
 * The image digest watcher (internal/images/watcher.ts): the first check after start waits this
 * long (the first snapshot and the informer's list come first), then every `images.pollInterval`
 * with POLL_JITTER.
 */
export const IMAGE_FIRST_CHECK_MS = 5_000;
