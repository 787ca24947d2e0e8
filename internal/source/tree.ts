/** The tree a snapshot is built from, abstracted over a plain directory and a Git commit. */

export const MODE_FILE = '100644';
export const MODE_EXECUTABLE = '100755';
export const MODE_SYMLINK = '120000';
export const MODE_DIR = '040000';

export interface TreeEntry {
  readonly name: string;
  readonly kind: 'dir' | 'file';
  /** Git mode: `100644`, `100755`, `120000` (symbolic link, never followed) or `040000`. */
  readonly mode: string;
  /** Git object id (blob or tree); the plain-directory reader has none. */
  readonly oid?: string;
}

export interface TreeReader {
  /** What the tree is: a commit id, or `local` for a plain directory. */
  readonly revision: string;
  /**
   * Entries of the directory at `path` (`/`-separated, `''` for the root), sorted by name, or
   * undefined when there is no such directory. Submodules and special files are left out.
   */
  list(path: string): Promise<readonly TreeEntry[] | undefined>;
  /** Content of a file `list` returned (for a symbolic link: its target). */
  read(path: string, entry: TreeEntry): Promise<Uint8Array>;
}

/**
 * A directory of the tree that cannot be used safely: an entry name Git itself refuses (`..`,
 * `.git` in any spelling, a `/`), two entries with one name (a symbolic link `d` beside a
 * directory `d`), or names that differ only in case. Fails the stack holding it, never more.
 */
export class UnsafeTreeError extends Error {
  override readonly name = 'UnsafeTreeError';
  /** The entry names of the directory, as far as they could be read (to tell a stack directory). */
  readonly names: readonly string[];

  constructor(
    message: string,
    options: { readonly names?: readonly string[]; readonly cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.names = options.names ?? [];
  }
}

/**
 * Refuse a directory listing (sorted by name) with two entries of one name — written out, the
 * second would land on, or inside, the first — and, with `foldCase`, names that differ only in
 * case (one file on a case-insensitive file system).
 */
export function checkEntries(path: string, entries: readonly TreeEntry[], foldCase = false): void {
  const seen = new Map<string, string>();
  const names = entries.map((e) => e.name);
  for (const entry of entries) {
    if (entry.name === '') {
      const where = path === '' ? 'the repository root' : `\`${path}\``;
      throw new UnsafeTreeError(`${where} has an entry with an empty name, which Git refuses`, { names });
    }
    const key = foldCase ? entry.name.toLowerCase() : entry.name;
    const other = seen.get(key);
    if (other !== undefined) {
      const where = path === '' ? 'the repository root' : `\`${path}\``;
      throw new UnsafeTreeError(
        other === entry.name
          ? `${where} has two entries named \`${entry.name}\`; a tree like this could write outside the stack, so it is refused`
          : `${where} has entries \`${other}\` and \`${entry.name}\`, which differ only in case; rename one`,
        { names },
      );
    }
    seen.set(key, entry.name);
  }
}

/** `/`-join two tree paths, either of which may be `''`. */
export function joinPath(dir: string, name: string): string {
  if (dir === '') return name;
  return name === '' ? dir : `${dir}/${name}`;
}
