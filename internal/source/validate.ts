import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { SourceError } from './errors.js';
import { MissingRootError } from './discover.js';
import { createScope } from './scope.js';
import { buildSnapshot, normaliseRoot } from './snapshot.js';
import { resolveStackLimits, type StackLimits } from './limits.js';
import { UnsafeTreeError } from './tree.js';
import { directoryReader } from './tree_directory.js';

export interface ValidateOptions {
  /** `source.path`: where the stacks live inside `dir`. @default '' */
  readonly path?: string;
  /** @default ['**'] */
  readonly include?: readonly string[];
  /** @default [] */
  readonly exclude?: readonly string[];
  /** `source.maxFileSize` and friends, as the daemon applies them. @default DEFAULT_STACK_LIMITS */
  readonly limits?: Partial<StackLimits>;
}

export interface ValidateStack {
  readonly id: string;
  readonly project: string;
  /** `sha256:<64 hex>`, or null when the stack is invalid. */
  readonly composeHash: string | null;
  readonly services: readonly { readonly name: string; readonly hash: string }[];
  /** Why the stack is invalid, or null. */
  readonly error: string | null;
}

export interface ValidateReport {
  readonly stacks: readonly ValidateStack[];
  /**
   * Compose files directly at `path` (relative to `dir`), which deploy nothing: the directory the
   * stacks are searched under is never a stack. Present only when there are some.
   */
  readonly rootComposeFiles?: readonly string[];
}

/**
 * `stackd validate [DIR]`: discover, parse and hash the stacks of a plain directory (a checkout,
 * so uncommitted and ignored files count too) exactly as the daemon does for a commit. Throws a
 * SourceError when `dir` or `path` is not a directory; invalid stacks are in the report.
 */
export async function validateDirectory(dir: string, options: ValidateOptions = {}): Promise<ValidateReport> {
  const root = resolve(dir);
  const stats = await stat(root).catch(() => undefined);
  if (!stats?.isDirectory()) throw new SourceError(`${root} is not a directory`);
  try {
    const snapshot = await buildSnapshot(directoryReader(root), {
      root: normaliseRoot(options.path ?? ''),
      scope: createScope({ include: options.include ?? [], exclude: options.exclude ?? [] }),
      fetchedAt: new Date(),
      limits: resolveStackLimits(options.limits),
    });
    const stacks = [...snapshot.stacks.values()].map((stack) => ({
      id: stack.id,
      project: stack.project,
      composeHash: stack.composeHash,
      services: [...stack.services.values()]
        .map((s) => ({ name: s.name, hash: s.hash }))
        .sort((a, b) => (a.name < b.name ? -1 : 1)),
      error: stack.error,
    }));
    const atRoot = snapshot.rootComposeFiles;
    return atRoot === undefined ? { stacks } : { stacks, rootComposeFiles: atRoot };
  } catch (error) {
    if (error instanceof MissingRootError || error instanceof UnsafeTreeError)
      throw new SourceError(`${error.message} in ${root}`, { cause: error });
    throw error;
  }
}

/** A table for people: one line per stack, then the errors in full. */
export function formatValidateReport(report: ValidateReport): string {
  if (report.stacks.length === 0) return 'no stacks found\n';
  const rows = [
    ['STACK', 'PROJECT', 'COMPOSE HASH', 'SERVICES', 'RESULT'],
    ...report.stacks.map((s) => [
      s.id,
      s.project,
      s.composeHash === null ? '-' : s.composeHash.slice(0, 'sha256:'.length + 12),
      s.services.length === 0 ? '-' : s.services.map((service) => service.name).join(','),
      s.error === null ? 'ok' : 'invalid',
    ]),
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length))) ?? [];
  const lines = rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
  const invalid = report.stacks.filter((s) => s.error !== null);
  if (invalid.length > 0) {
    lines.push('', ...invalid.map((s) => `${s.id}: ${s.error ?? ''}`));
  }
  lines.push('', `${report.stacks.length} stack(s), ${invalid.length} invalid`);
  return `${lines.join('\n')}\n`;
}
