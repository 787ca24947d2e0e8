/**
 * What a failure's journal line quotes from compose: the bounded stderr tail of the compose
 * command it ended with (ComposeError.stderrTail: 20 lines, 2 KiB), with the values of the
 * stack's tracked `.env` replaced by `***`, as a failed container's log lines are. Configured
 * secrets are replaced by the logger itself. The status message keeps compose's one line.
 */
import { readFile } from 'node:fs/promises';
import { isComposeError } from '../compose/index.js';
import { Redactor } from '../log/index.js';

/** The values of the stack's tracked `.env` (what it keeps secret), for quoting output. */
export function envRedactor(env: Uint8Array | undefined): Redactor {
  const redactor = new Redactor();
  if (env === undefined) return redactor;
  for (const line of Buffer.from(env).toString('utf8').split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_.-]*\s*=\s*(.*)$/.exec(line);
    const value = match?.[1]?.trim().replace(/^(['"])(.*)\1$/, '$2');
    if (value !== undefined && value !== '') redactor.add(value);
  }
  return redactor;
}

/** The env file at `path` (stackd's copy of the tracked `.env`), or undefined if unreadable. */
export async function readEnv(path: string): Promise<Uint8Array | undefined> {
  return readFile(path).catch(() => undefined);
}

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
