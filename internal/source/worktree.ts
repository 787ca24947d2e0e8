/**
 * A work tree walked by name, never by path. Node has no `openat`, so every lookup goes through
 * an open directory handle (`/proc/self/fd/<fd>/<name>`, Linux): the directory is the one that
 * was opened, whatever was renamed or swapped meanwhile, and the last component is opened with
 * `O_NOFOLLOW`, created with `O_EXCL`, or renamed over — none of which follows a symbolic link.
 * So no symbolic link in the tree is ever followed, even one a container swaps in mid-walk.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import {
  type FileHandle,
  lstat,
  mkdir,
  open,
  readlink,
  rename,
  rmdir,
  symlink,
  unlink,
} from 'node:fs/promises';
import { isCode } from './tree_directory.js';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_DIRECTORY, O_NONBLOCK } = constants;

/** What is at a name inside a directory, looked at without following it. */
export type EntryKind = 'missing' | 'file' | 'symlink' | 'directory' | 'other';

/**
 * Something other than stackd changed the shape of a tracked path (a symbolic link or file where
 * Git has a directory, a directory where Git has a file). Nothing is written through it.
 */
export class WorkTreeError extends Error {
  override readonly name = 'WorkTreeError';
  /** The path, relative to the stack's work directory. */
  readonly path: string;

  constructor(path: string, message: string) {
    super(message);
    this.path = path;
  }
}

/** An open directory of the tree; its `rel` is the path from the walk's root. */
export class Directory {
  readonly #handle: FileHandle;
  readonly rel: string;

  private constructor(handle: FileHandle, rel: string) {
    this.#handle = handle;
    this.rel = rel;
  }

  /**
   * Open `parts` below the trusted directory `root` (created if missing; symbolic links in `root`
   * itself are the operator's): each of `parts` is created if missing and never followed. The
   * result is the root of a walk (`rel` is `''`).
   */
  static async open(root: string, parts: readonly string[]): Promise<Directory> {
    await mkdir(root, { recursive: true });
    let current = new Directory(await open(root, O_RDONLY | O_DIRECTORY), '');
    try {
      for (const part of parts) {
        const next = await current.child(part, true);
        await current.close();
        if (next === undefined) throw new Error(`cannot create ${part}`); // create: never undefined
        current = next;
      }
    } catch (error) {
      await current.close();
      if (error instanceof WorkTreeError) {
        throw new WorkTreeError(
          '',
          `${root}/${error.path} is not a plain directory (a symbolic link or a file); stackd does not follow it: remove it and stackd recreates it`,
        );
      }
      throw error;
    }
    return new Directory(current.#handle, '');
  }

  /** The path the kernel resolves to `name` inside this very directory (one component only). */
  at(name: string): string {
    if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
      throw new Error(
        `refusing the path component ${JSON.stringify(name)} in ${this.rel || 'the work tree'}`,
      );
    }
    return `/proc/self/fd/${this.#handle.fd}/${name}`;
  }

  relOf(name: string): string {
    return this.rel === '' ? name : `${this.rel}/${name}`;
  }

  async kind(name: string): Promise<EntryKind> {
    try {
      const stats = await lstat(this.at(name));
      if (stats.isSymbolicLink()) return 'symlink';
      if (stats.isDirectory()) return 'directory';
      return stats.isFile() ? 'file' : 'other';
    } catch (error) {
      if (isCode(error, 'ENOENT')) return 'missing';
      throw error;
    }
  }

  /**
   * The subdirectory `name`: created when `create` and missing; undefined when missing and not
   * `create`. A symbolic link, a file or anything else there is a WorkTreeError.
   */
  async child(name: string, create: boolean): Promise<Directory | undefined> {
    if (create) {
      try {
        await mkdir(this.at(name), { mode: 0o755 }); // mkdir never follows a link in its place
      } catch (error) {
        if (!isCode(error, 'EEXIST')) throw error;
      }
    }
    try {
      return new Directory(await open(this.at(name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW), this.relOf(name));
    } catch (error) {
      if (isCode(error, 'ENOENT') && !create) return undefined;
      if (isCode(error, 'ELOOP') || isCode(error, 'ENOTDIR')) {
        const kind = await this.kind(name);
        throw new WorkTreeError(
          this.relOf(name),
          `\`${this.relOf(name)}\` is ${article(kind)} where Git has a directory`,
        );
      }
      throw error;
    }
  }

  /** The content of the regular file `name`; undefined when it is not one (or is missing). */
  async readFile(name: string): Promise<Buffer | undefined> {
    let handle: FileHandle;
    try {
      // O_NONBLOCK: a FIFO swapped in must not hang the walk (it is then refused as not a file).
      handle = await open(this.at(name), O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    } catch (error) {
      if (isCode(error, 'ENOENT') || isCode(error, 'ELOOP')) return undefined;
      throw error;
    }
    try {
      const stats = await handle.stat();
      return stats.isFile() ? await handle.readFile() : undefined;
    } finally {
      await handle.close();
    }
  }

  /** Mode bits of the regular file `name` (undefined if it is not one). */
  async fileMode(name: string): Promise<number | undefined> {
    const stats = await lstat(this.at(name)).catch(() => undefined);
    return stats?.isFile() === true ? stats.mode & 0o7777 : undefined;
  }

  /** The target of the symbolic link `name` (undefined if it is not one). */
  async readLink(name: string): Promise<string | undefined> {
    try {
      return await readlink(this.at(name));
    } catch (error) {
      if (isCode(error, 'ENOENT') || isCode(error, 'EINVAL')) return undefined;
      throw error;
    }
  }

  /**
   * Replace `name` atomically with a regular file (a temporary file created with `O_EXCL |
   * O_NOFOLLOW` beside it, renamed over). Whatever was at `name` — a file, a symbolic link — is
   * replaced itself, never written through; a directory there is a WorkTreeError.
   */
  async writeFile(name: string, content: Uint8Array, mode: number): Promise<void> {
    const temp = tempName();
    try {
      const handle = await open(this.at(temp), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
      try {
        await handle.writeFile(content);
        await handle.chmod(mode);
      } finally {
        await handle.close();
      }
      await this.#replace(temp, name, 'a file');
    } finally {
      await unlink(this.at(temp)).catch(() => undefined);
    }
  }

  /** Replace `name` atomically with a symbolic link to `target`. */
  async writeSymlink(name: string, target: string): Promise<void> {
    const temp = tempName();
    try {
      await symlink(target, this.at(temp));
      await this.#replace(temp, name, 'a symbolic link');
    } finally {
      await unlink(this.at(temp)).catch(() => undefined);
    }
  }

  /** Delete `name` unless it is a directory (left for whoever made it); true if something went. */
  async remove(name: string): Promise<boolean> {
    try {
      await unlink(this.at(name)); // unlink removes a link itself, never its target
      return true;
    } catch (error) {
      if (isCode(error, 'ENOENT') || isCode(error, 'EISDIR') || isCode(error, 'EPERM')) return false;
      throw error;
    }
  }

  /** Delete the subdirectory `name` if it is empty; false when it is not (or is gone). */
  async removeDirIfEmpty(name: string): Promise<boolean> {
    try {
      await rmdir(this.at(name));
      return true;
    } catch {
      return false; // not empty (untracked data), not a directory, or already gone
    }
  }

  async close(): Promise<void> {
    await this.#handle.close().catch(() => undefined);
  }

  async #replace(temp: string, name: string, what: string): Promise<void> {
    try {
      await rename(this.at(temp), this.at(name));
    } catch (error) {
      if (isCode(error, 'EISDIR') || isCode(error, 'ENOTEMPTY') || isCode(error, 'EEXIST')) {
        throw new WorkTreeError(
          this.relOf(name),
          `\`${this.relOf(name)}\` is a directory where Git has ${what}`,
        );
      }
      throw error;
    }
  }
}

/**
 * Open directories along paths from one root, reusing the handles of the chain walked last (so a
 * walk over sorted paths keeps at most one handle per level open). `close()` releases them all.
 */
export class Walker {
  readonly #root: Directory;
  /** The chain walked last: root first. */
  #chain: Directory[];

  constructor(root: Directory) {
    this.#root = root;
    this.#chain = [root];
  }

  /**
   * The directory at `parts` below the root (creating missing ones when `create`), or undefined
   * when one is missing and not `create`. A component that is not a directory is a WorkTreeError.
   */
  async dir(parts: readonly string[], create: boolean): Promise<Directory | undefined> {
    let depth = 1;
    while (
      depth < this.#chain.length &&
      depth - 1 < parts.length &&
      this.#chain[depth]?.rel === parts.slice(0, depth).join('/')
    ) {
      depth++;
    }
    for (const stale of this.#chain.splice(depth)) await stale.close();
    for (let i = depth - 1; i < parts.length; i++) {
      const parent = this.#chain[this.#chain.length - 1] ?? this.#root;
      const next = await parent.child(parts[i] ?? '', create);
      if (next === undefined) return undefined;
      this.#chain.push(next);
    }
    return this.#chain[parts.length] ?? this.#root;
  }

  async close(): Promise<void> {
    for (const dir of this.#chain.splice(1)) await dir.close();
  }
}

function article(kind: EntryKind): string {
  switch (kind) {
    case 'symlink':
      return 'a symbolic link';
    case 'file':
      return 'a file';
    case 'missing':
      return 'gone';
    default:
      return 'not a directory';
  }
}

/** Short whatever `name` is, so a name near the 255-byte limit still gets a temporary sibling. */
function tempName(): string {
  return `.stackd-${randomBytes(6).toString('hex')}.tmp`;
}
