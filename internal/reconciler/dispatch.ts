/**
 * Dispatch: read the latest snapshot and observation, decide, and hand the decision to its
 * branch. The branches that only record (invalid, in sync, held) are here (gone: missing.ts); apply and
 * removal have their own files. Every branch returns a ReconcileOutcome; none writes the final
 * record itself.
 */
import type { ObservedProject } from '../informer/types.js';
import { LogEvent } from '../log/index.js';
import type { Snapshot } from '../source/types.js';
import type { StackRecord } from '../state/index.js';
import type { ServiceStatus, Suspension } from '../status/index.js';
import { intentProblem, stackSettings, suspensionOf, waitingFor } from './intent.js';
import { countHeal, crashLoop, crashLoopMessage } from './crash_loop.js';
import { rollBack, rollbackTarget } from './rollback.js';
import type { StackDigests } from '../images/digests.js';
import { imageRollbackTargets, rollBackImages } from './image_rollback.js';
import { apply } from './apply.js';
import type { ReconcileContext } from './context.js';
import { type Decision, decide } from './decide.js';
import { ReconcileError, TerminalReconcileError } from './errors.js';
import type { ReconcileRequest, ReconcileSettings } from './options.js';
import type { ReconcileOutcome } from './recorder.js';
import { remove } from './remove.js';
import { serviceStatuses } from './services.js';
import { leftoverProject, renamedProjects } from './universe.js';
import { appliedOf } from './why.js';
import { gone } from './missing.js';

const NOOP: ReconcileOutcome = { kind: 'noop' };

export async function dispatch(
  ctx: ReconcileContext,
  settings: () => ReconcileSettings,
  request: ReconcileRequest,
  signal?: AbortSignal,
): Promise<ReconcileOutcome> {
  const snapshot = ctx.source.current();
  if (snapshot === undefined) return NOOP; // nothing desired known yet; the first snapshot enqueues all
  const desired = snapshot.stacks.get(request.stack);
  const record = ctx.recorder.previous(request.stack);
  const suspended = suspensionOf(desired, record, () => ctx.recorder.at());
  const outcome = await act(ctx, snapshot, settings, request, suspended, signal);
  // The stack's intent as recorded: its suspension, and its own prune for when it leaves Git.
  if (outcome.record === undefined) return outcome;
  const prune =
    desired === undefined || desired.error !== null
      ? (record?.prune ?? null)
      : (desired.intent?.prune ?? null);
  const intent: Partial<StackRecord> = {
    ...(JSON.stringify(record?.suspended ?? null) === JSON.stringify(suspended) ? {} : { suspended }),
    ...((record?.prune ?? null) === prune ? {} : { prune }),
  };
  return Object.keys(intent).length === 0
    ? outcome
    : { ...outcome, record: { ...outcome.record, patch: { ...outcome.record.patch, ...intent } } };
}

async function act(
  ctx: ReconcileContext,
  snapshot: Snapshot,
  settings: () => ReconcileSettings,
  request: ReconcileRequest,
  suspended: Suspension | null,
  signal?: AbortSignal,
): Promise<ReconcileOutcome> {
  const id = request.stack;
  const read = snapshot.stacks.get(id);
  // A stack's own minReady that no apply could meet fails the stack, as an invalid file does.
  const problem = intentProblem(read, settings());
  const desired =
    read === undefined || problem === null ? read : { ...read, error: problem, composeHash: null };
  const observation = ctx.informer.current();
  if (!observation.up) {
    const message = `Docker engine unreachable: ${observation.error ?? 'no answer'}`;
    return {
      kind: 'unreachable',
      record: { project: desired?.project, patch: { status: 'failed', message } },
      log: {
        level: 'warn',
        event: LogEvent.reconcileFailure,
        fields: { reason: message, project: desired?.project },
      },
      error: new ReconcileError(id, message),
    };
  }
  const force = request.force === true;
  const record = ctx.recorder.previous(id);
  const own = stackSettings(settings(), desired, record);
  const current = force && request.prune === true ? { ...own, prune: true } : own;
  const renamedFrom =
    desired === undefined ? [] : renamedProjects(observation, snapshot, id, desired.project, ctx.instance);
  const waiting = waitingFor(desired, snapshot, (dep) => ctx.recorder.previous(dep));
  // The watched services' digests: what each runs, what its registry serves (image updates).
  const digestsOf = async (seen: ObservedProject | undefined): Promise<StackDigests | undefined> => {
    if (ctx.images === undefined || desired === undefined || desired.composeHash === null) return undefined;
    const found = await ctx.images.digests(desired, seen, record?.rejectedDigests, force);
    return found.size === 0 ? undefined : found;
  };
  let digests: StackDigests | undefined;
  const decideWith = (observed: ObservedProject | undefined): Decision =>
    decide({
      desired,
      observed,
      desiredEmpty: snapshot.stacks.size === 0,
      settings: current,
      instance: ctx.instance,
      force,
      renamedFrom,
      held: record?.held,
      applied: record?.applied,
      suspended,
      waitingFor: waiting,
      ...(digests === undefined ? {} : { digests }),
    });
  // The informer's cache (kept fresh by events) decides "in sync" without a Docker API call;
  // anything else is re-checked against the engine before acting on it.
  const project = desired?.project ?? leftoverProject(observation, snapshot, id, ctx.instance)?.project;
  let observed = project === undefined ? undefined : observation.projects.get(project);
  digests = await digestsOf(observed);
  let decision = decideWith(observed);
  if (
    project !== undefined &&
    // A held failure too: its record shows the services' current restart counts.
    (decision.kind === 'apply' ||
      decision.kind === 'remove' ||
      decision.kind === 'hold' ||
      decision.kind === 'held_failure')
  ) {
    observed = await ctx.informer.observeProject(project, signal);
    digests = await digestsOf(observed);
    decision = decideWith(observed);
  }
  const fields = {
    project: project ?? '',
    revision: snapshot.revision,
    ...(desired?.composeHash ? { composeHash: desired.composeHash } : {}),
  };
  const services =
    desired !== undefined
      ? serviceStatuses(desired, observed, ctx.instance, digests)
      : (observed?.containers ?? []).map((c): ServiceStatus => ({
          name: c.service,
          state: c.state,
          health: c.health,
          inSync: false,
        }));
  switch (decision.kind) {
    case 'invalid':
    case 'foreign': {
      const previous = ctx.recorder.previous(id);
      const repeated = previous?.status === 'failed' && previous.message === decision.message;
      // Found invalid at this commit: an attempt that failed at once (its commit status says so).
      if (!repeated && decision.kind === 'invalid')
        ctx.recorder.applyStarted(
          id,
          { revision: snapshot.revision, composeHash: desired?.composeHash ?? '' },
          false,
        );
      return {
        kind: 'failed',
        record: { project, patch: { status: 'failed', message: decision.message, services } },
        ...(repeated
          ? {}
          : {
              log: {
                level: 'warn',
                event: LogEvent.reconcileFailure,
                fields: { ...fields, reason: decision.message },
              },
            }),
        error: new TerminalReconcileError(id, decision.message),
      };
    }
    case 'in_sync': {
      // The synced revision follows the desired one without touching the runtime.
      const target = { revision: snapshot.revision, composeHash: desired?.composeHash ?? '' };
      const record = ctx.recorder.previous(id);
      const previous = record?.synced;
      // The containers were applied when they were before: the first time known, if never recorded.
      const synced =
        previous?.revision === target.revision && previous.composeHash === target.composeHash
          ? previous
          : {
              ...target,
              at: ctx.recorder.at(),
              ...(previous == null ? {} : { appliedAt: previous.appliedAt ?? previous.at }),
            };
      // In sync at another hash than the one held (a revert, say): the hold and rollback are over.
      const applied = desired === undefined ? null : appliedOf(desired);
      const over: Partial<StackRecord> = {
        ...(record?.held == null ? {} : { held: null }),
        ...(record?.rollback == null ? {} : { rollback: null }),
        // What runs is what Git has: the parts to name the next change by.
        ...(applied === null ? {} : { applied }),
      };
      return {
        kind: 'in_sync',
        record: { project, patch: { status: 'synced', message: '', synced, services, ...over } },
        log: { level: 'debug', event: LogEvent.reconcileSkip, fields: { ...fields, reason: 'in sync' } },
      };
    }
    case 'hold':
      return {
        kind: 'held',
        record: {
          project,
          patch: {
            status: 'out_of_sync',
            message: decision.message,
            services,
            ...ctx.recorder.syncedFallback(id, observed),
          },
        },
        log: {
          level: 'info',
          event: LogEvent.reconcileSkip,
          fields: { ...fields, reason: decision.message },
        },
      };
    case 'held_failure':
      // One attempt per commit: stays `failed` with the failure's message; events change nothing.
      return {
        kind: 'held',
        record: { project, patch: { status: 'failed', message: decision.message, services } },
        log: {
          level: 'debug',
          event: LogEvent.reconcileSkip,
          fields: { ...fields, reason: `held: failed at this stack hash; ${decision.message}` },
        },
      };
    case 'gone':
      return gone(ctx, id, snapshot);
    case 'apply': {
      if (desired?.composeHash == null) return NOOP; // decide() only applies valid stacks
      const target = { revision: snapshot.revision, composeHash: desired.composeHash };
      const previous = ctx.recorder.previous(id);
      // A manual sync starts the crash-loop count afresh.
      let extra: Partial<StackRecord> = force ? { heals: null } : {};
      if (decision.plan.driftOnly && !force) {
        // A self-heal: counted, and the limit within the window is a crash loop, not another up.
        const heals = countHeal(previous?.heals, desired.composeHash, ctx.clock.date().getTime());
        if (heals.at.length >= current.crashLoopLimit) {
          return crashLoop(ctx, id, project, target, services, fields, {
            message: crashLoopMessage(decision.plan, observed, heals, current.crashLoopLimit),
            heals,
          });
        }
        extra = { heals };
      }
      const input = {
        stack: desired,
        target,
        plan: decision.plan,
        observed,
        timeoutMs: current.timeoutMs,
        removeFirst: decision.removeFirst ?? [],
        minReadyMs: current.minReadyMs,
        extra,
        force,
        ...(digests === undefined ? {} : { digests }),
        ...(signal ? { signal } : {}),
      };
      ctx.recorder.applyStarted(id, target, decision.plan.driftOnly);
      const outcome = await apply(ctx, input);
      if (!current.rollback) return outcome;
      const to = rollbackTarget(outcome, input, previous);
      if (to !== null) return rollBack(ctx, input, outcome, to);
      // A digest-only failure: the stack's files did not change, its images go back.
      const images = imageRollbackTargets(outcome, input, ctx.instance);
      return images === null ? outcome : rollBackImages(ctx, input, outcome, images);
    }
    case 'remove':
      if (observed === undefined) return NOOP;
      return remove(ctx, {
        id,
        runtime: observed,
        plan: decision.plan,
        services,
        timeoutMs: current.timeoutMs,
        revision: snapshot.revision,
        ...(signal ? { signal } : {}),
      });
  }
}
