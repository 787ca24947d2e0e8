/** The one atomic file write of stackd (state, manifests, source state, env files, lock, override). */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

function tempPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.stackd-${randomBytes(6).toString('hex')}.tmp`);
}

export interface AtomicWriteOptions {
  /** @default 0o644 */
  readonly mode?: number;
  /** Flush the file to disk before the rename. @default false */
  readonly fsync?: boolean;
  /** Also flush the directory after the rename, so the new name survives a power loss. @default false */
  readonly fsyncDir?: boolean;
}

/**
 * Replace `path` with `content` atomically: write a temporary file beside it, set its mode,
 * optionally fsync, rename over. Readers see the old file or the new one, never half of one.
 */
export async function writeFileAtomic(
  path: string,
  content: Uint8Array | string,
  options: AtomicWriteOptions = {},
): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = tempPath(path);
  try {
    const handle = await open(temp, 'wx', options.mode ?? 0o644);
    try {
      await handle.writeFile(content);
      await handle.chmod(options.mode ?? 0o644);
      if (options.fsync === true) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw error;
  }
  if (options.fsyncDir === true) {
    const dir = await open(dirname(path), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}
