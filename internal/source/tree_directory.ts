import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import {
  checkEntries,
  MODE_DIR,
  MODE_EXECUTABLE,
  MODE_FILE,
  MODE_SYMLINK,
  type TreeEntry,
  type TreeReader,
} from './tree.js';

/**
 * A plain directory on disk read as a tree (for `stackd validate` on a checkout): `.git` is left
 * out, symbolic links are files holding their target, the owner's execute bit gives `100755`.
 */
export function directoryReader(root: string): TreeReader {
  return {
    revision: 'local',
    async list(path) {
      let dirents;
      try {
        dirents = await readdir(join(root, path), { withFileTypes: true });
      } catch (error) {
        if (isCode(error, 'ENOENT') || isCode(error, 'ENOTDIR')) return undefined;
        throw error;
      }
      const entries: TreeEntry[] = [];
      for (const dirent of dirents) {
        if (dirent.name === '.git') continue;
        if (dirent.isDirectory()) entries.push({ name: dirent.name, kind: 'dir', mode: MODE_DIR });
        else if (dirent.isSymbolicLink())
          entries.push({ name: dirent.name, kind: 'file', mode: MODE_SYMLINK });
        else if (dirent.isFile()) {
          const stats = await lstat(join(root, path, dirent.name));
          const mode = (stats.mode & 0o100) !== 0 ? MODE_EXECUTABLE : MODE_FILE;
          entries.push({ name: dirent.name, kind: 'file', mode });
        }
      }
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      checkEntries(path, entries);
      return entries;
    },
    async read(path, entry) {
      const full = join(root, path);
      if (entry.mode === MODE_SYMLINK) return new Uint8Array(Buffer.from(await readlink(full), 'utf8'));
      return new Uint8Array(await readFile(full));
    },
  };
}

/** `error.code === code`, without `instanceof` (errors may come from another realm, as in jest). */
export function isCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
