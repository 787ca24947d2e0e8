import { joinPath, MODE_SYMLINK, type TreeEntry, type TreeReader } from './tree.js';

/** Compose file names that make a directory a stack, in order of preference (DESIGN.md §2). */
export const COMPOSE_FILE_NAMES = [
  'compose.yaml',
  'compose.yml',
  'docker-compose.yaml',
  'docker-compose.yml',
];
export const OVERRIDE_FILE_NAMES = ['compose.override.yaml', 'compose.override.yml'];

export interface StackCandidate {
  /** Path relative to the source root, `/`-separated. */
  readonly id: string;
  /** Path relative to the tree's root (`source.path` + id). */
  readonly dir: string;
  /** Object id of the directory's tree, when the reader has one (a cache key). */
  readonly oid?: string;
  /** Compose files relative to the stack directory, main file first. */
  readonly composeFiles: readonly string[];
}

/** Thrown when `source.path` is not a directory of the tree. */
export class MissingRootError extends Error {
  override readonly name = 'MissingRootError';
}

/**
 * Find every stack under `root`: a directory holding a compose file (the first of
 * COMPOSE_FILE_NAMES it has, plus an override beside it). Directories whose name starts with
 * `.` are skipped and a stack directory is not searched further. The root itself is never a
 * stack (its id would be empty): stacks live in directories below `source.path`.
 */
export async function findStacks(reader: TreeReader, root: string): Promise<StackCandidate[]> {
  const top = await reader.list(root);
  if (top === undefined)
    throw new MissingRootError(`path \`${root}\` is not a directory at ${reader.revision}`);
  const found: StackCandidate[] = [];
  const walk = async (dir: string, id: string, entries: readonly TreeEntry[]): Promise<void> => {
    for (const entry of entries) {
      if (entry.kind !== 'dir' || entry.name.startsWith('.')) continue;
      const childDir = joinPath(dir, entry.name);
      const childId = joinPath(id, entry.name);
      const children = (await reader.list(childDir)) ?? [];
      const composeFiles = composeFilesOf(children);
      if (composeFiles.length > 0) {
        found.push({
          id: childId,
          dir: childDir,
          composeFiles,
          ...(entry.oid === undefined ? {} : { oid: entry.oid }),
        });
      } else {
        await walk(childDir, childId, children);
      }
    }
  };
  await walk(root, '', top);
  return found.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function composeFilesOf(entries: readonly TreeEntry[]): string[] {
  const files = new Set(
    entries.filter((e) => e.kind === 'file' && e.mode !== MODE_SYMLINK).map((e) => e.name),
  );
  const main = COMPOSE_FILE_NAMES.find((name) => files.has(name));
  if (main === undefined) return [];
  const override = OVERRIDE_FILE_NAMES.find((name) => files.has(name));
  return override === undefined ? [main] : [main, override];
}

/** Every file under `dir` (dot files and directories included), by path relative to it. */
export async function listStackFiles(reader: TreeReader, dir: string): Promise<Map<string, TreeEntry>> {
  const files = new Map<string, TreeEntry>();
  const walk = async (relative: string): Promise<void> => {
    for (const entry of (await reader.list(joinPath(dir, relative))) ?? []) {
      const path = joinPath(relative, entry.name);
      if (entry.kind === 'dir') await walk(path);
      else files.set(path, entry);
    }
  };
  await walk('');
  return files;
}
