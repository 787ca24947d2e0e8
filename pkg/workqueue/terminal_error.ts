/** The error a handler throws to say "retrying will not help". */

/** Thrown by a handler when retrying cannot succeed (e.g. invalid desired config): the key is forgotten, not retried. */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';
}

/**
 * Whether `error`, or any error in its `cause` chain, is named `TerminalError` (by name, so an
 * error from another copy of this module counts too).
 */
export function isTerminalError(error: unknown): boolean {
  const seen = new Set<unknown>();
  for (let current = error; typeof current === 'object' && current !== null;) {
    if (seen.has(current)) return false;
    seen.add(current);
    if ('name' in current && current.name === 'TerminalError') return true;
    current = 'cause' in current ? current.cause : undefined;
  }
  return false;
}
