/** Reading and atomically writing the state file (temp file, fsync, rename, fsync directory). */
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { STATE_VERSION, type StateData, emptyState } from './types.js';

export type LoadOutcome =
  | { readonly kind: 'ok'; readonly data: StateData }
  | { readonly kind: 'missing'; readonly data: StateData }
  | { readonly kind: 'corrupt'; readonly data: StateData; readonly reason: string; readonly movedTo: string };

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function check(raw: unknown): StateData {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error('not a JSON object');
  const data = raw as Partial<StateData>;
  if (data.version !== STATE_VERSION) throw new Error(`unsupported version ${JSON.stringify(data.version)}`);
  if (!isObject(data.stacks)) throw new Error('no "stacks" object');
  if (!Object.values(data.stacks).every(isObject)) throw new Error('a stack record is not an object');
  if (data.runs !== undefined && !Array.isArray(data.runs)) throw new Error('"runs" is not a list');
  return interrupted({ ...emptyState(), ...data });
}

/** A stack recorded as `syncing` was cut short by a stop or crash: say so until it is re-checked. */
function interrupted(data: StateData): StateData {
  const stacks = { ...data.stacks };
  for (const [id, record] of Object.entries(stacks)) {
    if (record.status === 'syncing') {
      stacks[id] = {
        ...record,
        status: 'out_of_sync',
        message: 'an apply was interrupted (stackd stopped); re-checking',
      };
    }
  }
  return { ...data, stacks };
}

/** Loads `path`; a corrupt file is renamed to `<path>.corrupt-<time>` and an empty state returned. */
export async function loadStateFile(path: string, now: () => Date = () => new Date()): Promise<LoadOutcome> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing', data: emptyState() };
    throw error;
  }
  try {
    return { kind: 'ok', data: check(JSON.parse(text)) };
  } catch (error) {
    const movedTo = `${path}.corrupt-${now().toISOString().replace(/[:.]/g, '-')}`;
    await rename(path, movedTo);
    return { kind: 'corrupt', data: emptyState(), reason: (error as Error).message, movedTo };
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
