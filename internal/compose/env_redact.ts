/**
 * The values of a stack's tracked `.env` (what it keeps secret), for quoting what compose and
 * containers print: compose v2 quotes an interpolated value it rejects (`Invalid containerPort:
 * <value of PORT>`), a container may log its settings.
 */
import { readFile } from 'node:fs/promises';
import { Redactor } from '../log/redact.js';

/** A Redactor of every non-empty value assigned in `env` (`KEY=value`, `export KEY="value"`). */
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

/** The file at `path` (stackd's copy of the tracked `.env`), or undefined when unreadable. */
export async function readEnv(path: string | undefined): Promise<Uint8Array | undefined> {
  return path === undefined ? undefined : readFile(path).catch(() => undefined);
}
