/**
 * What a failure's journal line quotes from compose: the bounded stderr tail of the compose
 * command it ended with (ComposeError.stderrTail: 20 lines, 2 KiB), with the values of the
 * stack's tracked `.env` replaced by `***`, as a failed container's log lines are. Configured
 * secrets are replaced by the logger itself. The status message keeps compose's one line.
 */
import { isComposeError } from '../compose/index.js';
import type { Redactor } from '../log/index.js';

export { envRedactor, readEnv } from '../compose/env_redact.js';

/** How deep a chain of `cause`s is followed to find the compose error. */
const MAX_CAUSES = 8;

/**
 * `{ stderr }` for a failure's log fields: the tail of the first ComposeError in `error`'s
 * `cause` chain, redacted; `{}` when compose was not what failed or printed nothing.
 */
export function stderrField(error: unknown, redactor: Redactor): { stderr?: string } {
  let current: unknown = error;
  for (let depth = 0; depth < MAX_CAUSES && current instanceof Error; depth++) {
    if (isComposeError(current)) {
      return current.stderrTail === '' ? {} : { stderr: redactor.text(current.stderrTail) };
    }
    current = current.cause;
  }
  return {};
}
