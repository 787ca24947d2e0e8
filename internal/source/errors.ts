/** The desired source's one error class, and the scrubbing that keeps credentials out of it. */
import { redactUrl } from '../log/redact.js';

/** Fetching or reading the desired state failed; the last good snapshot is kept (FR-012). */
export class SourceError extends Error {
  override readonly name = 'SourceError';
}

/**
 * Remove credentials from text meant for people: the userinfo of every URL
 * (`https://user:token@host` → `https://***@host`) and every listed secret value.
 */
export function scrub(text: string, secrets: readonly string[] = []): string {
  let out = redactUrl(text);
  for (const secret of secrets) {
    if (secret.length > 0) out = out.split(secret).join('***');
  }
  return out;
}

/** The message of anything thrown (not relying on `instanceof Error`: errors cross realms). */
export function messageOf(error: unknown): string {
  const message =
    typeof error === 'object' && error !== null ? (error as { message?: unknown }).message : undefined;
  return typeof message === 'string' ? message : String(error);
}

/** A SourceError with a scrubbed message and the original error as `cause`. */
export function sourceError(message: string, cause: unknown, secrets: readonly string[]): SourceError {
  const detail = cause === undefined ? '' : messageOf(cause);
  const text = detail === '' ? message : `${message}: ${detail}`;
  return new SourceError(scrub(text, secrets), { cause });
}
