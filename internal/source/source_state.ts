import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../../pkg/atomicfile/index.js';

/**
 * `dataDir/source.json`: which remote and branch the local object store was last fetched from,
 * and when, so that a restart with the remote unreachable can trust it (or not).
 */
export interface SourceState {
  /** The remote URL without credentials. */
  readonly url: string;
  readonly branch: string;
  readonly revision: string;
  /** RFC 3339. */
  readonly fetchedAt: string;
}

export async function readSourceState(path: string): Promise<SourceState | undefined> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<SourceState>;
    if (typeof parsed.url !== 'string' || typeof parsed.branch !== 'string') return undefined;
    if (typeof parsed.revision !== 'string' || typeof parsed.fetchedAt !== 'string') return undefined;
    return parsed as SourceState;
  } catch {
    return undefined;
  }
}

export async function writeSourceState(path: string, state: SourceState): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(state, null, 2)}\n`, { fsync: true });
}
