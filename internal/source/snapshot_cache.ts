/**
 * `dataDir/snapshot.json`: the snapshot memo (what each directory and stack tree id was found to
 * be) kept across restarts, so that a restart reports every stack's desired hash without reading
 * and hashing its tree again. Entries are keyed by Git tree ids, which name their content, so the
 * file stays true for any commit; it is only a cache: a missing, unreadable, foreign or outdated
 * file is ignored (the trees are read again) and never fails a start.
 *
 * What goes in is what a stack's tree decides, with the environment it was interpolated with. A
 * stack with decrypted files (its key lives outside the tree) or an error (which may come from a
 * key or a limit) is left out and read again. Each stack keeps the names of the environment
 * variables it looked up and a digest of their values (never the values): a stack whose variables
 * changed since is read again. What else a build depends on (the format below, `source.path`,
 * the size limits) makes up the fingerprint; a file written under another one is ignored.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../pkg/atomicfile/index.js';
import type { StackCandidate } from './discover.js';
import type { StackLimits } from './limits.js';
import type { MemoStack, SnapshotMemo } from './snapshot.js';
import type { DesiredService, DesiredStack } from './types.js';

/** Bump whenever what a DesiredStack holds, or how it is computed, changes. */
export const SNAPSHOT_CACHE_FORMAT = 1;

export interface CacheInputs {
  readonly root: string;
  readonly limits: StackLimits;
}

/** `sha256:<hex>` over what a build depends on besides the tree and the environment. */
export function cacheFingerprint(inputs: CacheInputs): string {
  const text = JSON.stringify({ format: SNAPSHOT_CACHE_FORMAT, root: inputs.root, limits: inputs.limits });
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

interface StoredStack {
  readonly id: string;
  readonly dir: string;
  readonly project: string;
  readonly composeFiles: readonly string[];
  readonly composeHash: string;
  readonly services: readonly DesiredService[];
  readonly files: readonly (readonly [string, string])[];
  readonly fileModes?: readonly (readonly [string, string])[];
  readonly intent?: DesiredStack['intent'];
  readonly envNames: readonly string[];
  readonly envDigest: string;
}

interface CacheFile {
  readonly format: number;
  readonly fingerprint: string;
  readonly dirs: readonly (readonly [string, readonly StackCandidate[]])[];
  readonly stacks: readonly (readonly [string, StoredStack])[];
}

/** Whether a stack's tree alone decides it (see the file's comment): only those are kept. */
function cacheable(stack: DesiredStack): stack is DesiredStack & { readonly composeHash: string } {
  return stack.error === null && stack.composeHash !== null && stack.secrets === undefined;
}

export function serializeMemo(memo: SnapshotMemo, fingerprint: string): string {
  const stacks: [string, StoredStack][] = [];
  for (const [key, { stack, envNames, envDigest }] of memo.stacks) {
    if (!cacheable(stack)) continue;
    stacks.push([
      key,
      {
        id: stack.id,
        dir: stack.dir,
        project: stack.project,
        composeFiles: stack.composeFiles,
        composeHash: stack.composeHash,
        services: [...stack.services.values()],
        files: [...stack.files],
        ...(stack.fileModes === undefined || stack.fileModes.size === 0
          ? {}
          : { fileModes: [...stack.fileModes] }),
        ...(stack.intent === undefined ? {} : { intent: stack.intent }),
        envNames,
        envDigest,
      },
    ]);
  }
  const file: CacheFile = { format: SNAPSHOT_CACHE_FORMAT, fingerprint, dirs: [...memo.dirs], stacks };
  return JSON.stringify(file);
}

/**
 * Fill `memo` from a serialized cache written under `fingerprint`. False (and `memo` untouched)
 * when the text is not such a cache.
 */
export function restoreMemo(memo: SnapshotMemo, text: string, fingerprint: string): boolean {
  let file: unknown;
  try {
    file = JSON.parse(text);
  } catch {
    return false;
  }
  if (!isRecord(file) || file['format'] !== SNAPSHOT_CACHE_FORMAT || file['fingerprint'] !== fingerprint)
    return false;
  const dirs = file['dirs'];
  const stacks = file['stacks'];
  if (!Array.isArray(dirs) || !Array.isArray(stacks)) return false;
  const restoredDirs = new Map<string, readonly StackCandidate[]>();
  for (const entry of dirs as unknown[]) {
    if (!isPair(entry) || !Array.isArray(entry[1]) || !entry[1].every(isCandidate)) return false;
    restoredDirs.set(entry[0], entry[1]);
  }
  const restoredStacks = new Map<string, MemoStack>();
  for (const entry of stacks as unknown[]) {
    if (!isPair(entry)) return false;
    const stack = toStack(entry[1]);
    if (stack === undefined) return false;
    restoredStacks.set(entry[0], stack);
  }
  memo.dirs.clear();
  memo.stacks.clear();
  for (const [key, value] of restoredDirs) memo.dirs.set(key, value);
  for (const [key, value] of restoredStacks) memo.stacks.set(key, value);
  return true;
}

export async function readMemo(path: string, memo: SnapshotMemo, fingerprint: string): Promise<boolean> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return false;
  }
  return restoreMemo(memo, text, fingerprint);
}

export async function writeMemo(path: string, memo: SnapshotMemo, fingerprint: string): Promise<void> {
  // A cache: no fsync; a torn or lost file is read as no cache.
  await writeFileAtomic(path, serializeMemo(memo, fingerprint), { mode: 0o600 });
}

function toStack(value: unknown): MemoStack | undefined {
  if (!isRecord(value)) return undefined;
  const {
    id,
    dir,
    project,
    composeFiles,
    composeHash,
    services,
    files,
    fileModes,
    intent,
    envNames,
    envDigest,
  } = value;
  if (!isStrings(envNames) || typeof envDigest !== 'string') return undefined;
  if (typeof id !== 'string' || typeof dir !== 'string' || typeof project !== 'string') return undefined;
  if (typeof composeHash !== 'string' || !isStrings(composeFiles)) return undefined;
  if (!Array.isArray(services) || !services.every(isService)) return undefined;
  if (!isPairs(files) || (fileModes !== undefined && !isPairs(fileModes))) return undefined;
  if (intent !== undefined && !isRecord(intent)) return undefined;
  const stack: DesiredStack = {
    id,
    dir,
    project,
    composeFiles,
    composeHash,
    error: null,
    services: new Map(services.map((s) => [s.name, s])),
    files: new Map(files),
    ...(fileModes === undefined ? {} : { fileModes: new Map(fileModes) }),
    ...(intent === undefined ? {} : { intent: intent as unknown as NonNullable<DesiredStack['intent']> }),
  };
  return { stack, envNames, envDigest };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStrings(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

function isPair(value: unknown): value is [string, unknown] {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === 'string';
}

function isPairs(value: unknown): value is [string, string][] {
  return Array.isArray(value) && value.every((v) => isPair(v) && typeof v[1] === 'string');
}

function isCandidate(value: unknown): value is StackCandidate {
  return (
    isRecord(value) &&
    typeof value['id'] === 'string' &&
    typeof value['dir'] === 'string' &&
    isStrings(value['composeFiles']) &&
    (value['oid'] === undefined || typeof value['oid'] === 'string') &&
    (value['problem'] === undefined || typeof value['problem'] === 'string')
  );
}

function isService(value: unknown): value is DesiredService {
  return (
    isRecord(value) &&
    typeof value['name'] === 'string' &&
    typeof value['hash'] === 'string' &&
    typeof value['oneShot'] === 'boolean' &&
    typeof value['healthcheck'] === 'boolean' &&
    (value['replicas'] === null || typeof value['replicas'] === 'number') &&
    typeof value['build'] === 'boolean'
  );
}
