import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type SecretOpener, checkingSecretOpener } from '../secrets/index.js';
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
  /**
   * Opens the stacks' SOPS and age files: with the age key they are decrypted (MAC checked),
   * without it only their form is checked. @default checkingSecretOpener() (no key)
   */
  readonly secrets?: SecretOpener;
}

export interface ValidateStack {
  readonly id: string;
  readonly project: string;
  /** `sha256:<64 hex>`, or null when the stack is invalid. */
  readonly composeHash: string | null;
  readonly services: readonly { readonly name: string; readonly hash: string }[];
  /** Why the stack is invalid, or null. */
  readonly error: string | null;
  /**
   * What `compose config -q` said of the stack (compose's error line), or null when compose
   * accepted it or was not run on it (stackd's own checks failed, or compose was skipped: see
   * `ValidateReport.compose`). Present once `stackd validate` has run compose.
   */
  readonly composeError?: string | null;
}

/** Whether `stackd validate` ran compose on the stacks, and which. */
export interface ValidateCompose {
  /** The compose that checked the stacks (`docker compose 2.26.1`), or null when skipped. */
  readonly command: string | null;
  /** Why compose was not run (`--no-compose`, or what was searched), or null when it ran. */
  readonly skipped: string | null;
}

export interface ValidateReport {
  readonly stacks: readonly ValidateStack[];
  /**
   * Compose files directly at `path` (relative to `dir`), which deploy nothing: the directory the
   * stacks are searched under is never a stack. Present only when there are some.
   */
  readonly rootComposeFiles?: readonly string[];
  /** Present when `stackd validate` found stacks and considered running compose on them. */
  readonly compose?: ValidateCompose;
}

/**
 * What compose is given for a stack that passed stackd's own checks, as at apply time but on the
 * checkout's files: `--project-directory` the stack directory, its compose files in `-f` order,
 * `--env-file` its `.env` when it has one, `-p` the project (never stackd's label override).
 */
export interface StackComposeInput {
  readonly id: string;
  readonly project: string;
  /** The stack directory, absolute. */
  readonly dir: string;
  /** The compose files, absolute, main file first, then the override. */
  readonly files: readonly string[];
  /** The stack's `.env`, absolute, when it has one. */
  readonly envFile?: string;
}

export interface CheckoutValidation {
  readonly report: ValidateReport;
  /** One per stack whose `error` is null, in the report's order. */
  readonly composeInputs: readonly StackComposeInput[];
}

/**
 * `stackd validate [DIR]`: discover, parse and hash the stacks of a plain directory (a checkout,
 * so uncommitted and ignored files count too) exactly as the daemon does for a commit. Throws a
 * SourceError when `dir` or `path` is not a directory; invalid stacks are in the report.
 */
export async function validateDirectory(dir: string, options: ValidateOptions = {}): Promise<ValidateReport> {
  return (await validateCheckout(dir, options)).report;
}

/** validateDirectory, plus what compose would be given for each valid stack (`stackd validate`). */
export async function validateCheckout(
  dir: string,
  options: ValidateOptions = {},
): Promise<CheckoutValidation> {
  const root = resolve(dir);
  const stats = await stat(root).catch(() => undefined);
  if (!stats?.isDirectory()) throw new SourceError(`${root} is not a directory`);
  try {
    const snapshot = await buildSnapshot(directoryReader(root), {
      root: normaliseRoot(options.path ?? ''),
      scope: createScope({ include: options.include ?? [], exclude: options.exclude ?? [] }),
      fetchedAt: new Date(),
      limits: resolveStackLimits(options.limits),
      secrets: options.secrets ?? checkingSecretOpener(),
    });
    const desired = [...snapshot.stacks.values()];
    const stacks = desired.map((stack) => ({
      id: stack.id,
      project: stack.project,
      composeHash: stack.composeHash,
      services: [...stack.services.values()]
        .map((s) => ({ name: s.name, hash: s.hash }))
        .sort((a, b) => (a.name < b.name ? -1 : 1)),
      error: stack.error,
    }));
    // A stack with encrypted files is not given to compose: the checkout has no plaintext files.
    const composeInputs = desired
      .filter((stack) => stack.error === null && stack.secrets === undefined)
      .map((stack): StackComposeInput => {
        const stackDir = join(root, stack.dir);
        return {
          id: stack.id,
          project: stack.project,
          dir: stackDir,
          files: stack.composeFiles.map((file) => join(stackDir, file)),
          // A `.env` that is a symbolic link failed the stack: this one is a plain file.
          ...(stack.files.has('.env') ? { envFile: join(stackDir, '.env') } : {}),
        };
      });
    const atRoot = snapshot.rootComposeFiles;
    const report = atRoot === undefined ? { stacks } : { stacks, rootComposeFiles: atRoot };
    return { report, composeInputs };
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
      s.error !== null ? 'invalid' : hasComposeError(s) ? 'rejected by compose' : 'ok',
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
  const rejected = report.stacks.filter((s) => s.error === null && hasComposeError(s));
  if (invalid.length > 0 || rejected.length > 0) {
    lines.push(
      '',
      ...invalid.map((s) => `${s.id}: ${s.error ?? ''}`),
      ...rejected.map((s) => `${s.id}: ${s.composeError ?? ''}`),
    );
  }
  const { compose } = report;
  const checked =
    compose === undefined
      ? ''
      : compose.command === null
        ? '; not checked with compose'
        : `, ${rejected.length} rejected by ${compose.command}`;
  lines.push('', `${report.stacks.length} stack(s), ${invalid.length} invalid${checked}`);
  return `${lines.join('\n')}\n`;
}

const hasComposeError = (s: ValidateStack): boolean =>
  s.composeError !== undefined && s.composeError !== null;
