/**
 * Image updates inside an apply (the digest watcher decides what is new, plan.ts what changes):
 * pull just the services whose registry digest moved, label each recreated watched service with
 * the digest it now runs (`io.stackd.image-digest`), and keep the digests that failed out of later
 * applies. A pull that fails is the registry's failure, not the stack's: that service keeps what
 * it runs and the watcher checks again.
 */
import type { ComposeRunOptions, ComposeTarget } from '../compose/types.js';
import { type ServiceDigest, type StackDigests, shortDigest } from '../images/digests.js';
import type { ObservedProject } from '../informer/types.js';
import { LABEL_IMAGE_DIGEST, LABEL_MANAGED_BY } from '../labels/index.js';
import { LogEvent } from '../log/index.js';
import type { DesiredStack } from '../source/types.js';
import type { RejectedDigest } from '../status/index.js';
import { type ReconcileContext, describe } from './context.js';
import type { StackPlan } from './plan.js';

/** The services an apply moves to a new registry digest (pulled), by name. */
export function digestUpdates(
  plan: StackPlan,
  digests: StackDigests | undefined,
): Map<string, ServiceDigest> {
  const out = new Map<string, ServiceDigest>();
  for (const s of plan.services) {
    const d = digests?.get(s.name);
    if (s.digest !== undefined && d !== undefined && d.restore === undefined && d.want === d.available)
      out.set(s.name, d);
  }
  return out;
}

/**
 * `compose pull` of the updated services. Those whose pull fails are dropped from the update (the
 * watcher forgets their digest until its next check); the digests left, for the labels.
 */
export async function pullUpdates(
  ctx: ReconcileContext,
  stack: DesiredStack,
  target: ComposeTarget,
  updates: ReadonlyMap<string, ServiceDigest>,
  digests: StackDigests,
  options: ComposeRunOptions,
): Promise<StackDigests> {
  if (updates.size === 0 || ctx.images === undefined) return digests;
  const names = [...updates.keys()].sort();
  const fields = { project: stack.project, services: names };
  try {
    await ctx.compose.pull(target, names, options);
    ctx.recorder.log('info', LogEvent.imagesPulled, stack.id, {
      ...fields,
      digests: Object.fromEntries(names.map((n) => [n, updates.get(n)?.want])),
    });
    return digests;
  } catch (error) {
    const reason = describe(error);
    ctx.recorder.log('warn', LogEvent.imagesPullFailed, stack.id, {
      ...fields,
      reason: `${reason}; the services keep the image they run`,
    });
    const out = new Map(digests);
    for (const [name, d] of updates) {
      ctx.images.forget(d.image);
      out.set(name, withoutWant(d));
    }
    return out;
  }
}

/**
 * The `io.stackd.image-digest` label of each watched service: the digest its local image is now
 * for the services this apply creates or recreates, the one its container has for the others
 * (a changed label would recreate it).
 */
export async function imageDigestLabels(
  ctx: ReconcileContext,
  stack: DesiredStack,
  observed: ObservedProject | undefined,
  plan: StackPlan,
  digests: StackDigests | undefined,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const [name, service] of stack.services) {
    const current = observed?.containers.find(
      (c) => c.service === name && c.labels[LABEL_MANAGED_BY] === ctx.instance,
    )?.labels[LABEL_IMAGE_DIGEST];
    const change = plan.services.find((s) => s.name === name)?.change;
    const created = change === 'create' || change === 'recreate';
    // A service created now: the label says what its container will run, when the engine knows.
    const digest =
      created && digests?.has(name) === true && typeof service.image === 'string'
        ? await ctx.images?.localDigest(service.image)
        : undefined;
    const label = digest ?? current;
    if (label !== undefined) out.set(name, label);
  }
  return out;
}

/** The message of a failed image update: which services, to which digest. */
export function updateFailure(updates: ReadonlyMap<string, ServiceDigest>, message: string): string {
  const what = [...updates].map(([name, d]) => `${name} to ${shortDigest(d.want)}`).join(', ');
  return `image update of ${what} failed: ${message}`;
}

/**
 * The rejected digests a record keeps: those still served by the registry (or not known since a
 * restart), of services still watched; none after a manual sync that succeeded.
 */
export function keptRejections(
  rejected: Readonly<Record<string, RejectedDigest>> | null | undefined,
  digests: StackDigests | undefined,
  force: boolean,
): Record<string, RejectedDigest> | null {
  if (rejected == null || force) return null;
  const out = Object.create(null) as Record<string, RejectedDigest>;
  let kept = 0;
  for (const [name, entry] of Object.entries(rejected)) {
    const d = digests?.get(name);
    if (d === undefined || (d.available !== undefined && d.available !== entry.digest)) continue;
    out[name] = entry;
    kept++;
  }
  return kept === 0 ? null : out;
}

/** `rejected` with the failed updates added. */
export function withRejections(
  rejected: Readonly<Record<string, RejectedDigest>> | null | undefined,
  updates: ReadonlyMap<string, ServiceDigest>,
  message: string,
  at: string,
): Record<string, RejectedDigest> {
  const out = Object.assign(Object.create(null) as Record<string, RejectedDigest>, rejected ?? {});
  for (const [name, d] of updates) if (d.want !== undefined) out[name] = { digest: d.want, message, at };
  return out;
}

function withoutWant(d: ServiceDigest): ServiceDigest {
  const out: { -readonly [K in keyof ServiceDigest]: ServiceDigest[K] } = { ...d };
  delete out.want;
  return out;
}
