/**
 * The files compose reads for a stack, outside the user's own: its work tree (materialized from
 * Git) and its `--env-file` (a copy of the tracked `.env`, where no container can write).
 */
import { rm, stat } from 'node:fs/promises';
import type { Layout } from '../layout/index.js';
import { LogEvent } from '../log/index.js';
import { writeFileAtomic } from '../../pkg/atomicfile/index.js';
import { WorkTreeError } from '../source/index.js';
import type { DesiredStack } from '../source/types.js';
import type { ReconcileContext } from './context.js';
import { TerminalReconcileError } from './errors.js';

/**
 * Write the stack's files into its work tree. A work tree something else reshaped (a symbolic
 * link swapped in for a tracked directory) fails the stack until it changes or is synced by hand.
 */
export async function materialize(
  ctx: ReconcileContext,
  stack: DesiredStack,
): Promise<Uint8Array | undefined> {
  try {
    const report = await ctx.source.materialize(stack, ctx.layout.workRoot);
    if (report.decrypted.length > 0) {
      ctx.recorder.log('info', LogEvent.secretsDecrypted, stack.id, {
        files: report.decrypted,
        reason: `decrypted ${report.decrypted.join(', ')} into the work tree`,
      });
    }
    return report.env;
  } catch (error) {
    if (!(error instanceof WorkTreeError)) throw error;
    throw new TerminalReconcileError(
      stack.id,
      `work tree ${ctx.layout.workDir(stack.id)} was changed outside stackd: ${error.message}; nothing was written through it (remove the path and stackd restores it)`,
      { cause: error, failure: 'refused' },
    );
  }
}

/**
 * The `--env-file` of an apply: the tracked `.env` as Git has it, copied where no container can
 * write (`overrides/<project>.env`), else an empty file. compose never reads the work tree's.
 */
export async function writeEnvFile(
  layout: Layout,
  project: string,
  env: Uint8Array | undefined,
): Promise<string> {
  const path = layout.envFile(project);
  if (env === undefined) {
    await rm(path, { force: true });
    return layout.emptyEnvFile;
  }
  await writeFileAtomic(path, env, { mode: 0o600 });
  return path;
}

/** The `--env-file` the last apply of `project` used (for a removal), else the empty file. */
export async function envFileOf(layout: Layout, project: string): Promise<string> {
  const path = layout.envFile(project);
  return (await stat(path).catch(() => undefined))?.isFile() === true ? path : layout.emptyEnvFile;
}
