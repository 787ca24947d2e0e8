import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from './atomic.js';
import { isCode } from './tree_directory.js';

/**
 * What materialize wrote into one destination directory, kept outside it (under
 * `dataDir/manifests/`): the only files a later materialize may delete there.
 */
export interface Manifest {
  readonly stack: string;
  readonly destDir: string;
  /** Path relative to destDir → blob id. */
  readonly files: Readonly<Record<string, string>>;
}

/** One manifest per stack and destination: `<stack id, encoded>-<hash of destDir>.json`. */
export function manifestPath(manifestDir: string, stack: string, destDir: string): string {
  const dest = createHash('sha256').update(resolve(destDir)).digest('hex').slice(0, 16);
  return join(manifestDir, `${encodeURIComponent(stack)}-${dest}.json`);
}

export async function readManifest(path: string): Promise<Manifest | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (isCode(error, 'ENOENT')) return undefined;
    throw error;
  }
  const parsed = JSON.parse(text) as { files?: unknown };
  if (typeof parsed.files !== 'object' || parsed.files === null) {
    throw new Error(`manifest ${path} is not valid`);
  }
  return parsed as Manifest;
}

export async function writeManifest(path: string, manifest: Manifest): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(manifest, null, 2)}\n`, { fsync: true });
}
