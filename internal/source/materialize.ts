import { lstat, readFile, readlink, rmdir, unlink } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { gitBlobId } from './build_stack.js';
import { writeFileAtomic, writeSymlinkAtomic } from './atomic.js';
import { manifestPath, readManifest, writeManifest } from './manifest.js';
import { MODE_EXECUTABLE, MODE_FILE, MODE_SYMLINK } from './tree.js';
import { isCode } from './tree_directory.js';
import type { DesiredStack } from './types.js';

export interface MaterializeOptions {
  readonly stack: DesiredStack;
  readonly destDir: string;
  /** Directory of the manifests (outside every destDir). */
  readonly manifestDir: string;
  /** Content of a blob by id. */
  readonly readBlob: (oid: string) => Promise<Uint8Array>;
}

/**
 * Make `destDir` hold exactly the stack's tracked files: files that differ are replaced
 * atomically (modes kept: executable bit, symbolic links), files an earlier materialize wrote
 * that are gone from the stack are deleted (with directories that become empty), and nothing
 * else in `destDir` is touched, so data containers write into bind mounts survives.
 */
export async function materializeStack(options: MaterializeOptions): Promise<void> {
  const { stack } = options;
  const destDir = resolve(options.destDir);
  const target = (path: string): string => {
    const full = resolve(destDir, path);
    const rel = relative(destDir, full);
    if (path === '' || rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
      throw new Error(`refusing to write \`${path}\` outside ${destDir}`);
    }
    return full;
  };
  const manifestFile = manifestPath(options.manifestDir, stack.id, destDir);
  const previous = await readManifest(manifestFile);

  for (const path of Object.keys(previous?.files ?? {})) {
    if (stack.files.has(path)) continue;
    const full = target(path);
    await unlink(full).catch((error: unknown) => {
      if (!isCode(error, 'ENOENT')) throw error;
    });
    await removeEmptyParents(dirname(full), destDir);
  }

  // Record every file this run may write before writing any, so none can leak past a crash.
  const files = Object.fromEntries(stack.files);
  await writeManifest(manifestFile, { stack: stack.id, destDir, files: { ...previous?.files, ...files } });
  for (const [path, oid] of stack.files) {
    const full = target(path);
    const mode = stack.fileModes?.get(path) ?? MODE_FILE;
    if (await isCurrent(full, oid, mode)) continue;
    const content = await options.readBlob(oid);
    if (mode === MODE_SYMLINK) await writeSymlinkAtomic(full, Buffer.from(content).toString('utf8'));
    else await writeFileAtomic(full, content, { mode: mode === MODE_EXECUTABLE ? 0o755 : 0o644 });
  }

  await writeManifest(manifestFile, { stack: stack.id, destDir, files });
}

/** The file on disk already has this content and mode (compared by Git blob id). */
async function isCurrent(full: string, oid: string, mode: string): Promise<boolean> {
  const stats = await lstat(full).catch(() => undefined);
  if (stats === undefined) return false;
  if (mode === MODE_SYMLINK) {
    return stats.isSymbolicLink() && gitBlobId(Buffer.from(await readlink(full), 'utf8')) === oid;
  }
  if (!stats.isFile() || ((stats.mode & 0o100) !== 0) !== (mode === MODE_EXECUTABLE)) return false;
  return gitBlobId(await readFile(full)) === oid;
}

async function removeEmptyParents(dir: string, stop: string): Promise<void> {
  for (let current = dir; current.startsWith(`${stop}${sep}`); current = dirname(current)) {
    try {
      await rmdir(current);
    } catch {
      return; // not empty (untracked data), or already gone
    }
  }
}
