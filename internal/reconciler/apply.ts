/**
 * Apply: write the stack's files and label override, have compose validate them, take down the
 * projects a rename left behind, `compose up`, wait until every service is ready, and check that
 * the runtime now matches. The outcome is `synced` (or `out_of_sync` when a newer snapshot came
 * meanwhile), or `failed` with why.
 */
import { elapsedMs, remainingMs } from '../../pkg/clock/index.js';
import { join } from 'node:path';
import { isComposeError } from '../compose/index.js';
import { writeOverride } from '../compose/override.js';
import type { ComposeRunOptions, ComposeTarget } from '../compose/types.js';
import type { ObservedProject } from '../informer/types.js';
import { LogEvent } from '../log/index.js';
import type { DesiredStack } from '../source/types.js';
import type { StackRecord } from '../state/index.js';
import { classify, isDeterministic } from './classify.js';
import { envRedactor, stderrField } from './compose_stderr.js';
import { pullFailureMessage } from './pull_failure.js';
import type { RevisionHash } from '../status/index.js';
import { buildServices } from './build_step.js';
import { servicesToBuild } from './builds.js';
import { serviceLabels } from './carry_forward.js';
import { type ReconcileContext, describe } from './context.js';
import { watchStarts } from './engine_watch.js';
import { ReconcileError, TerminalReconcileError } from './errors.js';
import { type StackPlan, planDesired } from './plan.js';
import { appliedOf, changesOf } from './why.js';
import { waitReady } from './readiness.js';
import type { ReconcileOutcome } from './recorder.js';
import { downRenamed } from './rename.js';
import { serviceStatuses } from './services.js';
import { materialize, writeEnvFile } from './work_files.js';
import type { StackDigests } from '../images/digests.js';
import { LABEL_IMAGE_DIGEST, LABEL_MANAGED_BY } from '../labels/index.js';
import {
  digestUpdates,
  imageDigestLabels,
  keptRejections,
  pullUpdates,
  updateFailure,
  withRejections,
} from './image_update.js';

export interface ApplyInput {
  readonly stack: DesiredStack;
  readonly target: RevisionHash;
  readonly plan: StackPlan;
  readonly observed: ObservedProject | undefined;
  /** Milliseconds the whole apply may take, waiting for containers included. */
  readonly timeoutMs: number;
  /** Projects the stack ran as before a rename in Git, taken down right before `up`. */
  readonly removeFirst: readonly string[];
  /** `reconcile.minReady` in ms. */
  readonly minReadyMs: number;
  /** Record fields this apply sets whatever its outcome (the self-heal count). */
  readonly extra?: Partial<StackRecord>;
  /** Shown while the apply runs, instead of the plan's reason (a rollback says so). */
  readonly startMessage?: string;
  /** The watched services' digests (image updates); the plan's `digest` changes are pulled. */
  readonly digests?: StackDigests;
  /** A manual sync: a success forgets the digests that failed before. */
  readonly force?: boolean;
  readonly signal?: AbortSignal;
}

export async function apply(ctx: ReconcileContext, input: ApplyInput): Promise<ReconcileOutcome> {
  const { stack, target, plan, observed, signal } = input;
  const { clock, layout, recorder, instance } = ctx;
  const id = stack.id;
  const started = clock.now();
  const deadline = started + input.timeoutMs;
  const fields = { ...target, project: stack.project };
  recorder.begin(
    id,
    stack.project,
    {
      status: 'syncing',
      message: input.startMessage ?? plan.reason,
      ...recorder.syncedFallback(id, observed),
      ...input.extra,
    },
    {
      level: 'info',
      event: LogEvent.reconcileStart,
      fields: { ...fields, action: plan.action, reason: plan.reason },
    },
  );
  const workDir = layout.workDir(id);
  let env: Uint8Array | undefined;
  const previous = recorder.previous(id);
  let updates = digestUpdates(plan, input.digests);
  let digests = input.digests;
  try {
    env = await materialize(ctx, stack);
    const overridePath = layout.override(stack.project);
    const labelled = async (p: StackPlan): Promise<Record<string, Record<string, string>>> => {
      const labels = serviceLabels(stack, observed, target, instance);
      for (const [name, digest] of await imageDigestLabels(ctx, stack, observed, p, digests)) {
        const own = labels[name];
        if (own !== undefined) own[LABEL_IMAGE_DIGEST] = digest;
      }
      return labels;
    };
    let digestLabels = await labelled(plan);
    await writeOverride(overridePath, digestLabels);
    const envFile = await writeEnvFile(layout, stack.project, env);
    const compose: ComposeTarget = {
      project: stack.project,
      dir: workDir,
      envFile,
      files: [...stack.composeFiles.map((f) => join(workDir, f)), overridePath],
    };
    const run = (): { timeoutMs: number; signal?: AbortSignal } => ({
      timeoutMs: Math.max(1000, remainingMs(clock, deadline)),
      ...(signal ? { signal } : {}),
    });
    try {
      await ctx.compose.validate(compose, run());
    } catch (error) {
      if (!isComposeError(error) || error.kind === 'timed_out') throw error;
      throw new TerminalReconcileError(id, `compose rejected the stack: ${error.message}`, {
        cause: error,
        failure: 'invalid',
      });
    }
    // Image updates: just those services are pulled; a pull that fails leaves them as they run.
    if (updates.size > 0 && digests !== undefined) {
      digests = await pullUpdates(ctx, stack, compose, updates, digests, run());
      const dropped = new Set([...updates.keys()].filter((n) => digests?.get(n)?.want === undefined));
      updates = new Map([...updates].filter(([n]) => !dropped.has(n)));
      const kept = { ...plan, services: plan.services.filter((p) => !(p.digest && dropped.has(p.name))) };
      digestLabels = await labelled(kept);
      await writeOverride(overridePath, digestLabels);
    }
    // The changed services with `build:` get their new image before `up` (which would reuse the
    // old one); a failed build leaves every container as it was.
    const toBuild = servicesToBuild(stack, observed, instance);
    if (toBuild.length > 0) await buildServices(ctx, stack, compose, toBuild, run(), envRedactor(env));
    // A renamed project: the old one goes once the new files are known good, right before `up`
    // (`-p OLD` with the new files: down finds the old project's containers by its label).
    const userFiles = stack.composeFiles.map((f) => join(workDir, f));
    for (const old of input.removeFirst) {
      await downRenamed(ctx, {
        id,
        project: old,
        files: userFiles,
        envFile,
        deadline,
        ...(signal ? { signal } : {}),
      });
    }
    await up(
      ctx,
      stack,
      compose,
      { ...run(), ...(plan.forceRecreate === true ? { forceRecreate: true } : {}) },
      input.timeoutMs,
    );
    const ready = await waitReady(stack, {
      observe: () => ctx.informer.observeProject(stack.project, signal),
      deadline,
      clock,
      minReadyMs: input.minReadyMs,
    });
    if (!ready.ok) {
      const tail =
        ready.container === undefined
          ? ''
          : await ctx.informer.logTail(ready.container, LOG_TAIL_LINES, signal).catch(() => '');
      const logs =
        tail === ''
          ? ''
          : `; last log lines: ${envRedactor(env)
              .text(tail)
              .replace(/\s*\n\s*/g, ' | ')}`;
      // Out of time while containers were still starting (or settling for minReady) is not the
      // stack's fault for certain: retried with backoff, never held nor rolled back.
      throw new ReconcileError(id, `${ready.message}${logs}`, {
        failure: ready.timedOut === true ? 'timed_out' : 'not_ready',
      });
    }
    const after = await ctx.informer.observeProject(stack.project, signal);
    const services = serviceStatuses(
      stack,
      after,
      instance,
      digests === undefined || ctx.images === undefined
        ? undefined
        : await ctx.images.digests(stack, after, previous?.rejectedDigests, input.force === true),
    );
    const check = planDesired(stack, after, { instance });
    if (check.action !== 'none')
      throw new ReconcileError(id, `still out of sync after apply: ${check.reason}`, {
        failure: 'not_ready',
      });
    for (const name of updates.keys()) {
      const want = digestLabels[name]?.[LABEL_IMAGE_DIGEST];
      const stale = after?.containers.find(
        (c) =>
          c.service === name &&
          c.labels[LABEL_MANAGED_BY] === instance &&
          c.labels[LABEL_IMAGE_DIGEST] !== want,
      );
      if (stale !== undefined)
        throw new ReconcileError(
          id,
          `still out of sync after apply: ${name} does not run ${want ?? 'the new image'}`,
          {
            failure: 'not_ready',
          },
        );
    }
    const durationMs = elapsedMs(clock, started);
    const at = recorder.at();
    return {
      kind: 'applied',
      record: {
        project: stack.project,
        patch: {
          // A snapshot that came during the apply already asks for more: synced to what was
          // applied, but not in sync (the queue runs the stack again).
          ...(ctx.source.current()?.stacks.get(id)?.composeHash === target.composeHash
            ? { status: 'synced' as const, message: '' }
            : {
                status: 'out_of_sync' as const,
                message: 'queued: the desired state changed during the apply',
              }),
          synced: { ...target, at, appliedAt: at },
          services,
          held: null,
          rollback: null,
          rejectedDigests: keptRejections(previous?.rejectedDigests, digests, input.force === true),
          applied: appliedOf(stack),
          ...input.extra,
        },
      },
      result: {
        target,
        lastResult: { outcome: 'success', at, message: plan.reason, durationMs },
        action: plan.action,
        changes: changesOf(plan),
      },
      log: {
        level: 'info',
        event: LogEvent.reconcileSuccess,
        fields: { ...fields, durationMs, action: plan.action, reason: plan.reason },
      },
    };
  } catch (error) {
    const durationMs = elapsedMs(clock, started);
    // compose may quote a value of the stack's `.env` (`Invalid containerPort: <PORT>`).
    const redactor = envRedactor(env);
    const cause = classify(error);
    // A refused or missing image: the message says which, of which service, and why.
    const found = redactor.text(pullFailureMessage(stack, error, cause) ?? describe(error));
    const message = updates.size > 0 ? updateFailure(updates, found) : found;
    const after = ctx.informer.current().projects.get(stack.project);
    const deterministic = isDeterministic(cause);
    return {
      kind: 'failed',
      cause,
      record: {
        project: stack.project,
        patch: {
          status: 'failed',
          message,
          services: serviceStatuses(stack, after, instance, digests),
          ...input.extra,
          // A new digest that failed is not pulled again until it changes or a manual sync.
          ...(deterministic && updates.size > 0
            ? { rejectedDigests: withRejections(previous?.rejectedDigests, updates, message, recorder.at()) }
            : {}),
          // One attempt per commit: this hash is not applied again until it changes or a manual
          // sync. A transient failure is retried by the queue, so no hold may outlive it (a forced
          // sync of a held hash that then fails transiently is retried, not held again).
          held: deterministic ? { ...target, cause, message } : null,
        },
      },
      result: {
        target,
        lastResult: { outcome: 'failure', at: recorder.at(), message, durationMs },
        action: plan.action,
        changes: changesOf(plan),
      },
      log: {
        level: 'error',
        event: LogEvent.reconcileFailure,
        fields: {
          ...fields,
          durationMs,
          action: plan.action,
          reason: message,
          cause,
          retry: !deterministic,
          ...stderrField(error, redactor),
        },
      },
      error: deterministic
        ? new TerminalReconcileError(id, message, { cause: error, failure: cause })
        : error instanceof TerminalReconcileError
          ? error
          : new ReconcileError(id, message, { cause: error, failure: cause }),
    };
  }
}

/** Lines of a failed container's log quoted in the failure message. */
const LOG_TAIL_LINES = 5;

/**
 * `compose up`, watching that the engine starts what it creates: a container left `created`
 * for half the timeout (at most a minute) marks the engine as not starting containers (not
 * ready, `stackd_runtime_up` 0) until an up succeeds.
 */
async function up(
  ctx: ReconcileContext,
  stack: DesiredStack,
  target: ComposeTarget,
  options: ComposeRunOptions,
  timeoutMs: number,
): Promise<void> {
  const { engine, clock, recorder } = ctx;
  const watch =
    engine === undefined
      ? undefined
      : watchStarts({
          informer: ctx.informer,
          project: stack.project,
          boundMs: Math.min(60_000, Math.max(1000, Math.floor(timeoutMs / 2))),
          clock,
          onStall: (reason) => {
            if (engine.stalled() === undefined) {
              recorder.log('error', LogEvent.runtimeStalled, stack.id, { project: stack.project, reason });
            }
            engine.markStalled(reason);
          },
        });
  try {
    await ctx.compose.up(target, options);
  } finally {
    watch?.stop();
  }
  const stalled = engine?.stalled();
  if (stalled !== undefined) {
    engine?.clear();
    recorder.log('info', LogEvent.runtimeRecovered, stack.id, {
      project: stack.project,
      reason: `compose up succeeded; was: ${stalled}`,
    });
  }
}
