/** Metrics hooks of a work queue, kept as plain callbacks so any backend (prom-client) can adapt them. */

/**
 * Optional callbacks a queue calls as it works; each one left out is a no-op. Durations are in
 * seconds. The longest-running processor is a gauge to poll: `queue.longestRunningSeconds()`.
 */
export interface WorkQueueMetrics {
  /** The number of keys waiting to be processed (including keys re-added while being processed) is now `depth`. */
  readonly depth?: (depth: number) => void;
  /** A key was accepted; adding a key that is already waiting is not counted. */
  readonly add?: () => void;
  /** A key waited `seconds` from being added until a worker got it. */
  readonly queueDuration?: (seconds: number) => void;
  /** A key was processed for `seconds`, from `get()` to `done()`. */
  readonly workDuration?: (seconds: number) => void;
  /** A key was re-added with `addRateLimited` (a failure retry). */
  readonly retry?: () => void;
}
