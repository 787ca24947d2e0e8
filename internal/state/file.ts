/** Reading and atomically writing the state file (temp file, fsync, rename, fsync directory). */
import { readFile, rename } from 'node:fs/promises';
import { writeFileAtomic } from '../../pkg/atomicfile/index.js';
import { realClock, type Clock } from '../../pkg/clock/index.js';
import { idMap, parseState } from './schema.js';
import { type StateData, emptyState } from './types.js';

export type LoadOutcome =
  | { readonly kind: 'ok'; readonly data: StateData }
  | { readonly kind: 'missing'; readonly data: StateData }
  | { readonly kind: 'corrupt'; readonly data: StateData; readonly reason: string; readonly movedTo: string };

/** A stack recorded as `syncing` was cut short by a stop or crash: say so until it is re-checked. */
function interrupted(data: StateData): StateData {
  const stacks = idMap(
    Object.entries(data.stacks).map(([id, record]) => [
      id,
      record.status === 'syncing'
        ? {
            ...record,
            status: 'out_of_sync' as const,
            message: 'an apply was interrupted (stackd stopped); re-checking',
          }
        : record,
    ]),
  );
  return { ...data, stacks };
}

/**
 * Loads `path`. Anything that is not a valid state file — not JSON, not the schema, a directory,
 * unreadable — is renamed to `<path>.corrupt-<time>` and an empty state returned, so that the
 * state is rebuilt from labels instead of stackd failing to start. When even the rename fails,
 * the empty state is returned all the same (`movedTo` says so; writes will report the cause).
 */
export async function loadStateFile(path: string, clock: Clock = realClock): Promise<LoadOutcome> {
  let reason: string;
  try {
    const text = await readFile(path, 'utf8');
    try {
      return { kind: 'ok', data: interrupted(parseState(JSON.parse(text))) };
    } catch (error) {
      reason = (error as Error).message;
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing', data: emptyState() };
    const code = (error as NodeJS.ErrnoException).code;
    reason = `cannot read it (${code ?? (error as Error).message})`;
  }
  const movedTo = `${path}.corrupt-${clock.date().toISOString().replace(/[:.]/g, '-')}`;
  try {
    await rename(path, movedTo);
    return { kind: 'corrupt', data: emptyState(), reason, movedTo };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    return {
      kind: 'corrupt',
      data: emptyState(),
      reason: `${reason}; moving it aside failed (${code})`,
      movedTo: '',
    };
  }
}

export async function writeStateFile(path: string, data: StateData): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(data, null, 1), { mode: 0o600, fsync: true, fsyncDir: true });
}
