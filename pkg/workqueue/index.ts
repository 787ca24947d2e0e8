/**
 * A keyed work queue with client-go semantics: a key waiting is queued once, a key re-added while
 * being processed is processed once more afterwards and never by two workers at once, and failures
 * are retried with per-key exponential backoff under a global token bucket. `runWorkers` drives
 * a handler over the queue with one requeue contract and a draining shutdown; time is injected
 * through `Clock` (`pkg/clock`; tests use its `FakeClock`).
 */
export { realClock, type Clock, type TimerHandle } from '../clock/clock.js';
export { createQueue, type Queue, type QueueOptions } from './queue.js';
export { createDelayingQueue, type DelayingQueue, type DelayingQueueOptions } from './delaying.js';
export {
  createRateLimitingQueue,
  type RateLimitingQueue,
  type RateLimitingQueueOptions,
} from './rate_limiting.js';
export {
  createBucketRateLimiter,
  createDefaultControllerRateLimiter,
  createExponentialRateLimiter,
  createMaxOfRateLimiter,
  type BucketRateLimiterOptions,
  type DefaultControllerRateLimiterOptions,
  type ExponentialRateLimiterOptions,
  type RateLimiter,
} from './rate_limiters.js';
export type { WorkQueueMetrics } from './metrics.js';
export { TerminalError, isTerminalError } from './terminal_error.js';
export {
  Enqueuer,
  processKey,
  runWorkers,
  type Handler,
  type KeyInfo,
  type Result,
  type WorkersOptions,
} from './workers.js';
