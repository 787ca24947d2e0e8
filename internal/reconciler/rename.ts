/**
 * Rename takedown: a stack whose project name changed in Git (`name:`) still runs as its old
 * project; right before the new project's `up`, the old one is taken down (`-p OLD` with the new
 * files: down finds the old project's containers by its label) and its label override deleted.
 * A step of the apply, logged as it happens; a failure fails the apply.
 */
import { remainingMs } from '../../pkg/clock/index.js';
import { rm } from 'node:fs/promises';
import { LogEvent } from '../log/index.js';
import { type ReconcileContext, describe } from './context.js';
import { ReconcileError } from './errors.js';

export interface RenameTakedown {
  /** The stack being applied. */
  readonly id: string;
  /** The old project to take down. */
  readonly project: string;
  /** The stack's own compose files (no label override), absolute. */
  readonly files: readonly string[];
  readonly envFile: string;
  /** The apply's deadline, on the clock's `now()` scale. */
  readonly deadline: number;
  readonly signal?: AbortSignal;
}

export async function downRenamed(ctx: ReconcileContext, takedown: RenameTakedown): Promise<void> {
  const { id, project, files, envFile, deadline, signal } = takedown;
  const fields = { project, action: 'remove', reason: 'project renamed in Git' };
  ctx.recorder.log('info', LogEvent.reconcileStart, id, fields);
  try {
    await ctx.compose.down(
      { project, dir: ctx.layout.workDir(id), files, envFile },
      { timeoutMs: Math.max(1000, remainingMs(ctx.clock, deadline)), ...(signal ? { signal } : {}) },
    );
  } catch (error) {
    throw new ReconcileError(id, `removing the old project ${project} failed: ${describe(error)}`, {
      cause: error,
    });
  }
  const after = await ctx.informer.observeProject(project, signal);
  if (after !== undefined && after.containers.length > 0) {
    throw new ReconcileError(
      id,
      `containers of the old project ${project} still present after compose down: ${after.containers.map((c) => c.name).join(', ')}`,
    );
  }
  await rm(ctx.layout.override(project), { force: true });
  ctx.recorder.log('info', LogEvent.reconcileSuccess, id, fields);
}
