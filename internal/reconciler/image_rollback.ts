/**
 * Rollback of an image update (`reconcile.rollback`): when the new digest of a watched service
 * fails for a deterministic cause (it does not become ready), its tag is pointed at the image the
 * service ran before (still on the engine) and the stack is applied again, which recreates just
 * that service with the old digest. The stack reads `failed` ("image update of app to sha256:…
 * failed: …; rolled back to sha256:…") and the new digest is rejected: not pulled again until the
 * registry serves another one or a manual sync.
 */
import { type ServiceDigest, shortDigest } from '../images/digests.js';
import { LABEL_MANAGED_BY } from '../labels/index.js';
import type { StackRecord } from '../state/index.js';
import { type ApplyInput, apply } from './apply.js';
import { isDeterministic } from './classify.js';
import { type ReconcileContext, describe } from './context.js';
import { digestUpdates } from './image_update.js';
import { planDesired } from './plan.js';
import { rollbackOutcome } from './rollback.js';
import type { ReconcileOutcome } from './recorder.js';

/** The image updates of a failed apply that roll back, by service, with the image each ran before. */
export function imageRollbackTargets(
  failed: ReconcileOutcome,
  input: ApplyInput,
  instance: string,
): Map<string, { readonly update: ServiceDigest; readonly imageId: string }> | null {
  if (failed.kind !== 'failed' || failed.cause === undefined || !isDeterministic(failed.cause)) return null;
  const updates = digestUpdates(input.plan, input.digests);
  if (updates.size === 0) return null;
  const out = new Map<string, { update: ServiceDigest; imageId: string }>();
  for (const [name, update] of updates) {
    const before = input.observed?.containers.find(
      (c) => c.service === name && c.labels[LABEL_MANAGED_BY] === instance,
    );
    if (before?.imageId === undefined || update.running === undefined) return null;
    out.set(name, { update, imageId: before.imageId });
  }
  return out;
}

export async function rollBackImages(
  ctx: ReconcileContext,
  input: ApplyInput,
  failed: ReconcileOutcome,
  targets: ReadonlyMap<string, { readonly update: ServiceDigest; readonly imageId: string }>,
): Promise<ReconcileOutcome> {
  const id = input.stack.id;
  const { recorder } = ctx;
  const update = failed.record?.patch.message ?? 'the image update failed';
  if (failed.log !== undefined) recorder.log(failed.log.level, failed.log.event, id, failed.log.fields);
  const to = [...targets].map(([name, t]) => `${name} ${shortDigest(t.update.running)}`).join(', ');
  const fields = {
    project: input.stack.project,
    revision: input.target.revision,
    composeHash: input.target.composeHash,
    to,
  };
  const finish = (ok: boolean, message: string, patch: Partial<StackRecord>): ReconcileOutcome =>
    rollbackOutcome(ctx, input, failed, { ok, message, patch, fields });
  try {
    for (const t of targets.values()) await ctx.images?.restore(t.imageId, t.update.image);
  } catch (error) {
    return finish(false, `${update}; not rolled back: ${describe(error)}`, {});
  }
  const observed = await ctx.informer
    .observeProject(input.stack.project, input.signal)
    .catch(() => undefined);
  const digests = new Map(input.digests);
  for (const [name, t] of targets) {
    digests.set(name, {
      ...t.update,
      // What the container now runs is the failed digest; the old one is wanted back.
      running: t.update.want ?? '',
      ...(t.update.running === undefined ? {} : { want: t.update.running }),
      restore: t.imageId,
    });
  }
  const back = await apply(ctx, {
    ...input,
    plan: planDesired(input.stack, observed, { instance: ctx.instance, digests }),
    observed,
    digests,
    removeFirst: [],
    startMessage: `${update}; rolling back to ${to}`,
  });
  if (back.kind !== 'applied') {
    const why = back.record?.patch.message ?? 'unknown';
    return finish(false, `${update}; rollback to ${to} failed: ${why}`, {
      ...(back.record?.patch.services ? { services: back.record.patch.services } : {}),
    });
  }
  const at = recorder.at();
  const [first] = targets.values();
  return finish(true, `${update}; rolled back to ${to}`, {
    ...(back.record?.patch.synced ? { synced: back.record.patch.synced } : {}),
    ...(back.record?.patch.services ? { services: back.record.patch.services } : {}),
    rollback: { from: first?.update.want ?? '', to: first?.update.running ?? '', at, reason: update },
  });
}
