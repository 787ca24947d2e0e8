/** The one backoff primitive: `baseMs` doubling on every failed attempt, capped at `maxMs`. */

export interface Backoff {
  /** Delay after the first failure, in ms. */
  readonly baseMs: number;
  /** The cap on the delay, in ms. */
  readonly maxMs: number;
}

/** The delay before retry number `attempt + 1` (attempt 0 is the first failure): `base · 2^attempt`, capped. */
export function backoffDelay(attempt: number, { baseMs, maxMs }: Backoff): number {
  if (baseMs === 0) return 0;
  return Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(0, attempt), 30));
}

/** Lengthens `ms` by up to `fraction` of itself, at random, so many waiters do not wake together. */
export function jittered(ms: number, fraction: number, random: () => number = Math.random): number {
  return ms * (1 + fraction * random());
}
