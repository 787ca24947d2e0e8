import {
  checkEntries,
  joinPath,
  MODE_SYMLINK,
  UnsafeTreeError,
  type TreeEntry,
  type TreeReader,
} from './tree.js';

/**
 * Compose file names that make a directory a stack, in compose v2's order of preference
 * (DESIGN.md §2), and the override names compose pairs with whichever main file it found, in
 * its order (compose 2.26: the first one present is used).
 */
export const COMPOSE_FILE_NAMES = [
  'compose.yaml',
  'compose.yml',
  'docker-compose.yml',
  'docker-compose.yaml',
];
export const OVERRIDE_FILE_NAMES = [
  'compose.override.yml',
  'compose.override.yaml',
  'docker-compose.override.yml',
  'docker-compose.override.yaml',
];

export interface StackCandidate {
  /** Path relative to the source root, `/`-separated. */
  readonly id: string;
  /** Path relative to the tree's root (`source.path` + id). */
  readonly dir: string;
  /** Object id of the directory's tree, when the reader has one (a cache key). */
  readonly oid?: string;
  /** Compose files relative to the stack directory, main file first. */
  readonly composeFiles: readonly string[];
  /** Why this directory cannot be a stack (an unusable name, an unsafe tree), when it cannot. */
  readonly problem?: string;
}

/** Longest stack id accepted, in characters (its URL-encoded form must fit an API path). */
export const MAX_STACK_ID_LENGTH = 255;

/**
 * Characters a stack id must not hold: C0 and C1 controls, line and paragraph separators, and
 * bidirectional overrides and isolates (which make a status table lie about the name).
 */
// eslint-disable-next-line no-control-regex -- control characters are what this matches
const UNUSABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

/** A directory name as it can appear in an id: unusable characters written as `\uXXXX`. */
function idPart(name: string): string {
  return name.replace(UNUSABLE, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Why a stack id (its raw directory path) cannot be used, or undefined when it can. */
function idProblem(rawId: string, id: string): string | undefined {
  if (rawId !== id) {
    return `the stack directory's path contains a control character or line separator (shown here as \\uXXXX); rename the directory`;
  }
  if (id.length > MAX_STACK_ID_LENGTH) {
    return `the stack id is ${id.length} characters long, more than the limit of ${MAX_STACK_ID_LENGTH}; use a shorter path`;
  }
  return undefined;
}

/** Thrown when `source.path` is not a directory of the tree. */
export class MissingRootError extends Error {
  override readonly name = 'MissingRootError';
}

/** What discovery found under `source.path`. */
export interface Discovery {
  readonly stacks: StackCandidate[];
  /**
   * Compose files directly at `root` (paths relative to the tree's root, main file first), which
   * deploy nothing: the root is never a stack. Empty when there are none.
   */
  readonly rootComposeFiles: string[];
}

/**
 * Find every stack under `root`: a directory holding a compose file (the first of
 * COMPOSE_FILE_NAMES it has, plus an override beside it). Directories whose name starts with
 * `.` are skipped and a stack directory is not searched further. The root itself is never a
 * stack (its id would be empty): stacks live in directories below `source.path`; compose files
 * at the root are reported as `rootComposeFiles`, for a warning.
 *
 * `memo` (directory path + tree id → the stacks found below it) makes the walk proportional to
 * what changed: a directory whose tree id it holds is not listed again. It is replaced by what
 * this walk used (with, below a directory found in it, the entries of its unchanged subtree), so
 * it holds one tree's directories, never more.
 */
export async function findStacks(
  reader: TreeReader,
  root: string,
  memo?: Map<string, readonly StackCandidate[]>,
): Promise<Discovery> {
  const top = await reader.list(root);
  if (top === undefined)
    throw new MissingRootError(`path \`${root}\` is not a directory at ${reader.revision}`);
  const rootComposeFiles = composeFilesOf(top).map((name) => joinPath(root, name));
  const used = new Map<string, readonly StackCandidate[]>();
  /** The memo's keys by the path of their directory's parent, built at the first hit. */
  let byParent: Map<string, string[]> | undefined;
  /** Keep the memo's entries below `dir`, whose tree id was found unchanged. */
  const carry = (dir: string): void => {
    if (memo === undefined) return;
    if (byParent === undefined) {
      byParent = new Map();
      for (const key of memo.keys()) {
        const path = key.slice(0, key.indexOf('\0'));
        const parent = path.slice(0, Math.max(0, path.lastIndexOf('/')));
        const siblings = byParent.get(parent);
        if (siblings === undefined) byParent.set(parent, [key]);
        else siblings.push(key);
      }
    }
    for (const key of byParent.get(dir) ?? []) {
      const value = memo.get(key);
      if (value === undefined) continue;
      used.set(key, value);
      carry(key.slice(0, key.indexOf('\0')));
    }
  };
  /** The stacks under one directory entry of `dir`: from `memo` when its tree id was seen there. */
  const below = async (
    dir: string,
    raw: string,
    id: string,
    entry: TreeEntry,
  ): Promise<readonly StackCandidate[]> => {
    const childDir = joinPath(dir, entry.name);
    const key = entry.oid === undefined ? undefined : `${childDir}\0${entry.oid}`;
    const known = key === undefined ? undefined : memo?.get(key);
    if (known !== undefined) carry(childDir);
    const found =
      known ?? (await search(childDir, joinPath(raw, entry.name), joinPath(id, idPart(entry.name)), entry));
    if (key !== undefined) used.set(key, found);
    return found;
  };
  const search = async (
    childDir: string,
    childRaw: string,
    childId: string,
    entry: TreeEntry,
  ): Promise<readonly StackCandidate[]> => {
    const oid = entry.oid === undefined ? {} : { oid: entry.oid };
    let children: readonly TreeEntry[];
    try {
      children = (await reader.list(childDir)) ?? [];
    } catch (error) {
      if (!(error instanceof UnsafeTreeError)) throw error;
      // A stack directory that cannot be used fails that stack. A directory above the stacks
      // may hold any number of them: reporting none would read as "removed from Git" (and be
      // pruned), so the whole tree is refused and the last good desired state kept.
      if (!error.names.some((name) => COMPOSE_FILE_NAMES.includes(name))) throw error;
      return [{ id: childId, dir: childDir, composeFiles: [], problem: error.message, ...oid }];
    }
    const composeFiles = composeFilesOf(children);
    if (composeFiles.length > 0) {
      const problem = idProblem(childRaw, childId);
      return [
        {
          id: childId,
          dir: childDir,
          composeFiles,
          ...oid,
          ...(problem === undefined ? {} : { problem }),
        },
      ];
    }
    return walk(childDir, childRaw, childId, children);
  };
  const walk = async (
    dir: string,
    raw: string,
    id: string,
    entries: readonly TreeEntry[],
  ): Promise<StackCandidate[]> => {
    const found: StackCandidate[] = [];
    for (const entry of entries) {
      if (entry.kind !== 'dir' || entry.name.startsWith('.')) continue;
      found.push(...(await below(dir, raw, id, entry)));
    }
    return found;
  };
  const found = await walk(root, '', '', top);
  if (memo !== undefined) {
    memo.clear();
    for (const [key, value] of used) memo.set(key, value);
  }
  return { stacks: found.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)), rootComposeFiles };
}

/**
 * The one message for compose files found directly at `source.path` (`files` as the reader
 * names them; `where` says which directory that is), for the daemon's log and `stackd validate`.
 */
export function rootComposeMessage(files: readonly string[], where: string): string {
  const [main = COMPOSE_FILE_NAMES[0] ?? 'compose.yaml'] = files;
  const named = files.map((file) => `\`${file}\``).join(' and ');
  const base = main.slice(main.lastIndexOf('/') + 1);
  const [is, deploys, it] = files.length > 1 ? ['are', 'deploy', 'them'] : ['is', 'deploys', 'it'];
  return (
    `${named} ${is} directly at source.path (${where}) and ${deploys} nothing: stacks are the ` +
    `directories below it; move ${it} into a directory, e.g. \`myapp/${base}\`: the directory ` +
    `name becomes the stack id`
  );
}

function composeFilesOf(entries: readonly TreeEntry[]): string[] {
  const files = new Set(
    entries.filter((e) => e.kind === 'file' && e.mode !== MODE_SYMLINK).map((e) => e.name),
  );
  return composeFilesAmong(files);
}

/** The compose files among `names` (of one directory), in `-f` order: the main file, its override. */
export function composeFilesAmong(names: ReadonlySet<string>): string[] {
  const main = COMPOSE_FILE_NAMES.find((name) => names.has(name));
  if (main === undefined) return [];
  const override = OVERRIDE_FILE_NAMES.find((name) => names.has(name));
  return override === undefined ? [main] : [main, override];
}

/**
 * Every file under `dir` (dot files and directories included), by path relative to it. Names in
 * one directory that differ only in case are an UnsafeTreeError: they would be one file on a
 * case-insensitive file system.
 */
export async function listStackFiles(reader: TreeReader, dir: string): Promise<Map<string, TreeEntry>> {
  const files = new Map<string, TreeEntry>();
  const walk = async (relative: string): Promise<void> => {
    const entries = (await reader.list(joinPath(dir, relative))) ?? [];
    checkEntries(joinPath(dir, relative), entries, true);
    for (const entry of entries) {
      const path = joinPath(relative, entry.name);
      if (entry.kind === 'dir') await walk(path);
      else files.set(path, entry);
    }
  };
  await walk('');
  return files;
}
