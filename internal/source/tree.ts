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

/** `/`-join two tree paths, either of which may be `''`. */
export function joinPath(dir: string, name: string): string {
  if (dir === '') return name;
  return name === '' ? dir : `${dir}/${name}`;
}
