/**
 * One vocabulary for time: the `Clock` every timer and timestamp goes through, `sleep` on it, and
 * the one backoff primitive. Tests use `FakeClock` (`./fake.js`).
 */
export { elapsedMs, realClock, remainingMs, sleep, type Clock, type TimerHandle } from './clock.js';
export { backoffDelay, jittered, type Backoff } from './backoff.js';
