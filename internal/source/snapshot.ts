import { createHash } from 'node:crypto';
import { childEnvironment } from '../compose/environment.js';
import { buildStack } from './build_stack.js';
import { markProjectConflicts } from './conflicts.js';
import { markDependencyProblems } from './depends.js';
import { findStacks, type StackCandidate } from './discover.js';
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
   * What the previous build found, by tree id: reused where the tree did not change, so a
   * commit costs what it changed, not the size of the repository. Updated in place.
   */
  readonly memo?: SnapshotMemo;
  /** @default DEFAULT_STACK_LIMITS */
  readonly limits?: StackLimits;
  /** Opens the stacks' encrypted files. @default none: a stack holding one fails */
  readonly secrets?: SecretOpener;
  /** What compose files are interpolated with. @default childEnvironment() */
  readonly environment?: Readonly<Record<string, string | undefined>>;
}

/** What one build read, and what it reused (for the log and the benchmark). */
export interface BuildStats {
  /** Directory listings read: tree objects, for a Git reader. */
  readonly treesRead: number;
  /** Stacks read and hashed. */
  readonly stacksParsed: number;
  /** Stacks reused from the memo, their tree unchanged. */
  readonly stacksReused: number;
}

/** A built stack, and the environment variables its interpolation looked up. */
export interface MemoStack {
  readonly stack: DesiredStack;
  /** The names it looked up, sorted. */
  readonly envNames: readonly string[];
  /** `environmentDigest(envNames, …)` when it was built: same digest, same stack. */
  readonly envDigest: string;
}

/**
 * What one build of a source found, kept for the next: the stacks below each directory by path
 * and tree id (discovery), and each stack by id and tree id (read, parsed and hashed) with the
 * environment it was interpolated with. Each build replaces both with what it used, so neither
 * outgrows one tree.
 */
export class SnapshotMemo {
  readonly dirs = new Map<string, readonly StackCandidate[]>();
  readonly stacks = new Map<string, MemoStack>();
  /** The last build's counts. */
  last: BuildStats = { treesRead: 0, stacksParsed: 0, stacksReused: 0 };
}

/** The memo key of a stack: its id and its directory's tree id. */
export function stackKey(id: string, oid: string): string {
  return `${id}\0${oid}`;
}

/**
 * `sha256:<hex>` over the values of `names` in `environment` (unset and set apart): a stack built
 * with one digest is the same stack under any environment with that digest. Values stay hashed,
 * never stored: they may be secrets.
 */
export function environmentDigest(
  names: readonly string[],
  environment: Readonly<Record<string, string | undefined>>,
): string {
  const values = names.map((name) => [name, environment[name] ?? null]);
  return `sha256:${createHash('sha256').update(JSON.stringify(values)).digest('hex')}`;
}

/** `environment`, recording every name looked up in it. */
function recording(
  environment: Readonly<Record<string, string | undefined>>,
  names: Set<string>,
): Readonly<Record<string, string | undefined>> {
  return new Proxy(environment, {
    get(target, name) {
      if (typeof name !== 'string') return undefined;
      names.add(name);
      return Object.hasOwn(target, name) ? target[name] : undefined;
    },
  });
}

/** Discover, scope, read and hash every stack of a tree into an immutable Snapshot. */
export async function buildSnapshot(tree: TreeReader, options: SnapshotOptions): Promise<Snapshot> {
  let treesRead = 0;
  const reader: TreeReader = {
    revision: tree.revision,
    list: (path) => {
      treesRead++;
      return tree.list(path);
    },
    read: (path, entry) => tree.read(path, entry),
  };
  const memo = options.memo;
  const environment = options.environment ?? childEnvironment();
  const { stacks: found, rootComposeFiles } = await findStacks(
    reader,
    normaliseRoot(options.root),
    memo?.dirs,
  );
  const candidates = found.filter((c) => options.scope(c.id));
  const built: DesiredStack[] = [];
  const used = new Map<string, MemoStack>();
  let stacksParsed = 0;
  for (const candidate of candidates) {
    const key = candidate.oid === undefined ? undefined : stackKey(candidate.id, candidate.oid);
    let entry = key === undefined ? undefined : memo?.stacks.get(key);
    if (entry !== undefined && environmentDigest(entry.envNames, environment) !== entry.envDigest)
      entry = undefined;
    if (entry === undefined) {
      stacksParsed++;
      const names = new Set<string>();
      const stack = await buildStack(
        reader,
        candidate,
        options.limits,
        recording(environment, names),
        options.secrets,
      );
      const envNames = [...names].sort();
      entry = { stack, envNames, envDigest: environmentDigest(envNames, environment) };
    }
    if (key !== undefined) used.set(key, entry);
    built.push(entry.stack);
  }
  if (memo) {
    memo.stacks.clear();
    for (const [key, value] of used) memo.stacks.set(key, value);
    memo.last = { treesRead, stacksParsed, stacksReused: built.length - stacksParsed };
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
