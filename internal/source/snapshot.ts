import { buildStack } from './build_stack.js';
import { markProjectConflicts } from './conflicts.js';
import { markDependencyProblems } from './depends.js';
import { findStacks } from './discover.js';
import type { StackLimits } from './limits.js';
import type { Scope } from './scope.js';
import type { SecretOpener } from '../secrets/index.js';
import type { TreeReader } from './tree.js';
import type { DesiredStack, Snapshot } from './types.js';

export interface SnapshotOptions {
  /** `source.path`, relative to the tree's root, `''` for the root. */
  readonly root: string;
  readonly scope: Scope;
  readonly fetchedAt: Date;
  /**
   * Stacks of the previous snapshot by `id` + tree id: a stack whose directory tree did not
   * change is reused instead of read and hashed again. Updated in place.
   */
  readonly memo?: Map<string, DesiredStack>;
  /** @default DEFAULT_STACK_LIMITS */
  readonly limits?: StackLimits;
  /** Opens the stacks' encrypted files. @default none: a stack holding one fails */
  readonly secrets?: SecretOpener;
}

/** Discover, scope, read and hash every stack of a tree into an immutable Snapshot. */
export async function buildSnapshot(reader: TreeReader, options: SnapshotOptions): Promise<Snapshot> {
  const { stacks: found, rootComposeFiles } = await findStacks(reader, normaliseRoot(options.root));
  const candidates = found.filter((c) => options.scope(c.id));
  const built: DesiredStack[] = [];
  const used = new Map<string, DesiredStack>();
  for (const candidate of candidates) {
    const key = candidate.oid === undefined ? undefined : `${candidate.id}\0${candidate.oid}`;
    const stack =
      (key === undefined ? undefined : options.memo?.get(key)) ??
      (await buildStack(reader, candidate, options.limits, undefined, options.secrets));
    if (key !== undefined) used.set(key, stack);
    built.push(stack);
  }
  if (options.memo) {
    options.memo.clear();
    for (const [key, stack] of used) options.memo.set(key, stack);
  }
  const stacks = new Map(markDependencyProblems(markProjectConflicts(built)).map((s) => [s.id, s]));
  return {
    revision: reader.revision,
    fetchedAt: options.fetchedAt,
    stacks,
    ...(rootComposeFiles.length > 0 ? { rootComposeFiles } : {}),
  };
}

/** `/apps/` → `apps`, `./` → `''`; a path leaving the tree is refused. */
export function normaliseRoot(path: string): string {
  const parts = path.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.includes('..'))
    throw new TypeError(`Expected \`path\` to stay inside the repository, got \`${path}\``);
  return parts.join('/');
}
