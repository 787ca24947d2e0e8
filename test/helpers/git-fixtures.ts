/** Temporary directories and file trees for tests of the desired source. */
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** A file's content, or `null` to delete it, or content with a mode or a link target. */
export type FileSpec =
  string | null | { readonly content: string; readonly mode: number } | { readonly symlink: string };
export type FileTree = Readonly<Record<string, FileSpec>>;

export async function makeTempDir(prefix = 'stackd-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Write (or with `null`, delete) files under `root`, creating directories as needed. */
export async function writeTree(root: string, files: FileTree): Promise<void> {
  for (const [path, spec] of Object.entries(files)) {
    const full = join(root, path);
    if (spec === null) {
      await rm(full, { force: true });
      continue;
    }
    await mkdir(dirname(full), { recursive: true });
    if (typeof spec === 'string') {
      await writeFile(full, spec);
    } else if ('symlink' in spec) {
      await rm(full, { force: true });
      await symlink(spec.symlink, full);
    } else {
      await writeFile(full, spec.content);
      await chmod(full, spec.mode);
    }
  }
}
