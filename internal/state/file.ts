/** Reading and atomically writing the state file (temp file, fsync, rename, fsync directory). */
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
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
export async function loadStateFile(path: string, now: () => Date = () => new Date()): Promise<LoadOutcome> {
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
  const movedTo = `${path}.corrupt-${now().toISOString().replace(/[:.]/g, '-')}`;
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
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.tmp`);
  try {
    const file = await open(tmp, 'w', 0o600);
    try {
      await file.writeFile(JSON.stringify(data, null, 1));
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw error;
  }
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
