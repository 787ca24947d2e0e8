/**
 * Automatic rollback (`reconcile.rollback`): when an update of a stack synced at R1 fails at R2
 * for a deterministic cause, re-apply the stack's files as they were at R1 (read from the local
 * repository's objects, so only what changed goes back: R1's labels and hashes are carried
 * forward as for any apply). The stack then reads `failed` ("update to R2 failed: …; rolled back
 * to R1") with `rollback` set and `synced` at R1, and R2 is held until a new commit or a manual
 * sync. A first deploy, a drift repair or a removal never rolls back.
 */
import { LogEvent } from '../log/index.js';
import type { StackRecord } from '../state/index.js';
import { type ApplyInput, apply } from './apply.js';
import { isDeterministic } from './classify.js';
import type { ReconcileContext } from './context.js';
import { TerminalReconcileError } from './errors.js';
import { planDesired } from './plan.js';
import type { ReconcileOutcome } from './recorder.js';

const short = (revision: string): string => revision.slice(0, 12);

/** Whether a failed apply is one that rolls back, and to what. */
export function rollbackTarget(
  failed: ReconcileOutcome,
  input: ApplyInput,
  previous: StackRecord | undefined,
): StackRecord['synced'] {
  if (failed.kind !== 'failed' || failed.cause === undefined || !isDeterministic(failed.cause)) return null;
  if (input.plan.driftOnly || input.plan.action === 'deploy') return null;
  const synced = previous?.synced ?? null;
  if (synced === null || synced.composeHash === input.target.composeHash) return null;
  return synced;
}

/** Re-apply `to` after `failed`; the outcome recorded for the whole attempt. */
export async function rollBack(
  ctx: ReconcileContext,
  input: ApplyInput,
  failed: ReconcileOutcome,
  to: NonNullable<StackRecord['synced']>,
): Promise<ReconcileOutcome> {
  const id = input.stack.id;
  const { recorder } = ctx;
  const reason = failed.record?.patch.message ?? 'the update failed';
  const update = `update to ${short(input.target.revision)} failed: ${reason}`;
  // The update's own failure is logged as it happened; the outcome below is the rollback's.
  if (failed.log !== undefined) recorder.log(failed.log.level, failed.log.event, id, failed.log.fields);
  const fields = {
    project: input.stack.project,
    revision: input.target.revision,
    composeHash: input.target.composeHash,
    to: to.revision,
  };
  const finish = (ok: boolean, message: string, patch: Partial<StackRecord>): ReconcileOutcome =>
    rollbackOutcome(ctx, input, failed, { ok, message, patch, fields });
  const stack = await ctx.source.stackAt(to.revision, id).catch(() => undefined);
  if (stack?.composeHash !== to.composeHash) {
    return finish(
      false,
      `${update}; not rolled back: the stack as synced at ${short(to.revision)} is not in the local repository`,
      {},
    );
  }
  const observed = await ctx.informer.observeProject(stack.project, input.signal).catch(() => undefined);
  const back = await apply(ctx, {
    ...input,
    stack,
    target: { revision: to.revision, composeHash: to.composeHash },
    plan: planDesired(stack, observed, { instance: ctx.instance }),
    observed,
    removeFirst: [],
    startMessage: `${update}; rolling back to ${short(to.revision)}`,
  });
  if (back.kind !== 'applied') {
    const why = back.record?.patch.message ?? 'unknown';
    return finish(false, `${update}; rollback to ${short(to.revision)} failed: ${why}`, {
      ...(back.record?.patch.services ? { services: back.record.patch.services } : {}),
    });
  }
  const at = recorder.at();
  return finish(true, `${update}; rolled back to ${short(to.revision)}`, {
    synced: back.record?.patch.synced ?? { ...to },
    ...(back.record?.patch.services ? { services: back.record.patch.services } : {}),
    rollback: { from: input.target.revision, to: to.revision, at, reason },
  });
}

/**
 * The outcome recorded for a whole rollback attempt (of a revision or of image digests): `failed`
 * with the story in `message`, the failed update's record and result, held with that message.
 */
export function rollbackOutcome(
  ctx: ReconcileContext,
  input: ApplyInput,
  failed: ReconcileOutcome,
  done: {
    readonly ok: boolean;
    readonly message: string;
    readonly patch: Partial<StackRecord>;
    readonly fields: Readonly<Record<string, unknown>>;
  },
): ReconcileOutcome {
  const { ok, message, patch, fields } = done;
  const id = input.stack.id;
  ctx.recorder.rolledBack(id, ok ? 'success' : 'failure');
  const held = failed.record?.patch.held ?? null;
  return {
    kind: 'failed',
    ...(failed.cause === undefined ? {} : { cause: failed.cause }),
    record: {
      project: input.stack.project,
      // Held with the whole story, so the looks that find it held keep saying so.
      patch: {
        ...failed.record?.patch,
        ...patch,
        status: 'failed',
        message,
        held: held === null ? null : { ...held, message },
      },
    },
    ...(failed.result === undefined
      ? {}
      : { result: { ...failed.result, lastResult: { ...failed.result.lastResult, message } } }),
    log: {
      level: ok ? 'warn' : 'error',
      event: LogEvent.reconcileRollback,
      fields: { ...fields, result: ok ? 'success' : 'failure', reason: message },
    },
    error: new TerminalReconcileError(id, message, { failure: failed.cause ?? 'not_ready' }),
  };
}
