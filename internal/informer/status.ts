/** Reading health and exit code out of Docker's human `Status` text, so no inspect is needed. */
import type { ObservedContainer } from './types.js';

/** `Exited (137) 2 seconds ago` → 137; anything else → null. */
export function parseExitCode(status: string): number | null {
  const match = /^Exited \((-?\d+)\)/.exec(status);
  return match?.[1] === undefined ? null : Number(match[1]);
}

/** `Up 3 seconds (healthy)` → healthy; `(health: starting)` → starting; no healthcheck → null. */
export function parseHealth(status: string): ObservedContainer['health'] {
  const match = /\((healthy|unhealthy|health: starting)\)/.exec(status);
  switch (match?.[1]) {
    case 'healthy':
      return 'healthy';
    case 'unhealthy':
      return 'unhealthy';
    case 'health: starting':
      return 'starting';
    default:
      return null;
  }
}
