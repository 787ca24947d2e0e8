import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../../pkg/atomicfile/index.js';
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

/**
 * One manifest per stack and destination, named by a hash of both (`<sha256>.json`), so a long
 * or odd stack id never makes a file name the file system refuses.
 */
export function manifestPath(manifestDir: string, stack: string, destDir: string): string {
  const key = createHash('sha256').update(stack).update('\0').update(resolve(destDir)).digest('hex');
  return join(manifestDir, `${key}.json`);
}

/** The name 0.1 used (`<stack id, encoded>-<hash of destDir>.json`): read once, then replaced. */
export function legacyManifestPath(manifestDir: string, stack: string, destDir: string): string {
  const dest = createHash('sha256').update(resolve(destDir)).digest('hex').slice(0, 16);
  return join(manifestDir, `${encodeURIComponent(stack)}-${dest}.json`);
}

/**
 * The manifest at `path`, or undefined when there is none, or none usable: a manifest only ever
 * allows deletions, so one that does not parse (or names paths that are not plain relative
 * paths) is ignored rather than trusted.
 */
export async function readManifest(path: string): Promise<Manifest | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (isCode(error, 'ENOENT') || isCode(error, 'ENAMETOOLONG')) return undefined;
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const files = (parsed as { files?: unknown } | null)?.files;
  if (typeof files !== 'object' || files === null || Array.isArray(files)) return undefined;
  const safe: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [key, value] of Object.entries(files)) {
    if (typeof value !== 'string' || !isPlainRelative(key)) return undefined;
    safe[key] = value;
  }
  return { ...(parsed as Manifest), files: safe };
}

function isPlainRelative(path: string): boolean {
  return path
    .split('/')
    .every((part) => part !== '' && part !== '.' && part !== '..' && !part.includes('\0'));
}

export async function writeManifest(path: string, manifest: Manifest): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(manifest, null, 2)}\n`, { fsync: true });
}
