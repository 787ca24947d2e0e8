/** Reconnect delays: `baseMs` doubling on every failed attempt, capped at `maxMs`. */

export function backoffDelay(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
}
