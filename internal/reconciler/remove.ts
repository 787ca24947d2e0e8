/**
 * Removal: a stack running as ours that is no longer desired is taken down with `compose down`
 * (volumes kept), using only the compose files Git put in its work tree; its work tree stays (it
 * may hold data containers wrote into bind mounts), its override and env file go. The outcome is
 * `missing`, or `failed` with why.
 */
import { elapsedMs } from '../../pkg/clock/index.js';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ObservedProject } from '../informer/types.js';
import { LogEvent } from '../log/index.js';
import { composeFilesAmong } from '../source/index.js';
import type { ServiceStatus } from '../status/index.js';
import { type ReconcileContext, describe } from './context.js';
import { envRedactor, readEnv, stderrField } from './compose_stderr.js';
import { ReconcileError } from './errors.js';
import type { StackPlan } from './plan.js';
import type { ReconcileOutcome } from './recorder.js';
import { envFileOf } from './work_files.js';

export interface RemoveInput {
  readonly id: string;
  readonly runtime: ObservedProject;
  readonly plan: StackPlan;
  /** The services as observed before the removal (kept in the record if it fails). */
  readonly services: readonly ServiceStatus[];
  readonly timeoutMs: number;
  /** The desired revision that lacks the stack. */
  readonly revision: string;
  readonly signal?: AbortSignal;
}

export async function remove(ctx: ReconcileContext, input: RemoveInput): Promise<ReconcileOutcome> {
  const { id, runtime, plan, services, signal } = input;
  const { clock, layout, recorder } = ctx;
  const project = runtime.project;
  const started = clock.now();
  recorder.begin(
    id,
    project,
    { status: 'syncing', message: plan.reason, services, ...recorder.syncedFallback(id, runtime) },
    {
      level: 'info',
      event: LogEvent.reconcileStart,
      fields: { project, action: 'remove', reason: plan.reason },
    },
  );
  const workDir = layout.workDir(id);
  try {
    await mkdir(workDir, { recursive: true }); // compose runs there, even if dataDir was wiped
    // Only what Git put there (the manifest), never a compose file or `.env` a container dropped.
    const tracked = await ctx.source.trackedFiles(id, layout.workRoot);
    await ctx.compose.down(
      {
        project,
        dir: workDir,
        files: composeFilesAmong(tracked).map((f) => join(workDir, f)),
        envFile: await envFileOf(layout, project),
      },
      { timeoutMs: input.timeoutMs, ...(signal ? { signal } : {}) },
    );
    const after = await ctx.informer.observeProject(project, signal);
    if (after !== undefined && after.containers.length > 0) {
      throw new ReconcileError(
        id,
        `containers still present after compose down: ${after.containers.map((c) => c.name).join(', ')}`,
      );
    }
    // The working directory stays: it may hold data containers wrote into bind mounts.
    await rm(layout.override(project), { force: true });
    await rm(layout.envFile(project), { force: true });
    const durationMs = elapsedMs(clock, started);
    return {
      kind: 'removed',
      record: {
        project,
        patch: {
          status: 'missing',
          message: 'removed: not in the desired state',
          services: [],
          missingAt: input.revision,
        },
      },
      result: {
        target: null,
        lastResult: { outcome: 'success', at: recorder.at(), message: 'removed', durationMs },
        action: 'remove',
      },
      log: {
        level: 'info',
        event: LogEvent.reconcileSuccess,
        fields: { project, durationMs, action: 'remove', reason: plan.reason },
      },
    };
  } catch (error) {
    const durationMs = elapsedMs(clock, started);
    const redactor = envRedactor(await readEnv(layout.envFile(project)));
    const message = `removal failed: ${redactor.text(describe(error))}`;
    return {
      kind: 'failed',
      record: { project, patch: { status: 'failed', message, services } },
      result: {
        target: null,
        lastResult: { outcome: 'failure', at: recorder.at(), message, durationMs },
        action: 'remove',
      },
      log: {
        level: 'error',
        event: LogEvent.reconcileFailure,
        fields: {
          project,
          durationMs,
          action: 'remove',
          reason: message,
          ...stderrField(error, redactor),
        },
      },
      error: new ReconcileError(id, message, { cause: error }),
    };
  }
}
