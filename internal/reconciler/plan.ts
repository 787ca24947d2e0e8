/** Pure planning: what one stack needs, from its desired state and its observed containers. */
import type { ObservedContainer, ObservedProject } from '../informer/types.js';
import { LABEL_MANAGED_BY, LABEL_SERVICE_HASH, LABEL_STACK } from '../labels/index.js';
import type { DesiredStack } from '../source/types.js';
import { type StackDigests, shortDigest } from '../images/digests.js';
import type { AppliedService } from '../state/index.js';
import { driftWhy, missingWhy, reasonPart, recreateWhy } from './why.js';

export type Action = 'none' | 'deploy' | 'update' | 'remove' | 'skip';
export type ServiceChange = 'create' | 'recreate' | 'start' | 'remove';

export interface ServicePlan {
  readonly name: string;
  readonly change: ServiceChange;
  /** Why, in words (why.ts): `new`, `gone`, `image a → b`, `file conf/app.conf`, `drift (exited 1)`, … */
  readonly why: string;
  /** An image update: the digest it runs and the one it is to run (`why` says `digest … → …`). */
  readonly digest?: { readonly from: string | undefined; readonly to: string };
}

export interface StackPlan {
  readonly action: Action;
  readonly reason: string;
  readonly services: readonly ServicePlan[];
  /**
   * Every difference is runtime drift (containers stopped or removed by hand) while the
   * definitions match: what `reconcile.selfHeal` governs.
   */
  readonly driftOnly: boolean;
  /** `x-stackd.recreate: stack`: `compose up --force-recreate`, every service recreated. */
  readonly forceRecreate?: boolean;
}

export interface PlanContext {
  readonly instance: string;
  /** The watched services' digests (image updates); a `want` other than `running` recreates. */
  readonly digests?: StackDigests;
  /** The stack record's `applied`: what its services last ran, to name what changed. */
  readonly applied?: Readonly<Record<string, AppliedService>> | null;
}

/** True when a container satisfies its desired service at rest. */
export function isHealthyState(c: ObservedContainer, oneShot: boolean): boolean {
  if (c.state === 'running') return c.health !== 'unhealthy' && c.health !== 'starting';
  return oneShot && c.state === 'exited' && c.exitCode === 0;
}

function groupByService(project: ObservedProject | undefined): Map<string, ObservedContainer[]> {
  const out = new Map<string, ObservedContainer[]>();
  for (const c of project?.containers ?? []) {
    const list = out.get(c.service) ?? [];
    list.push(c);
    out.set(c.service, list);
  }
  return out;
}

/** Plan for a stack that is in the desired state and valid. */
export function planDesired(
  stack: DesiredStack,
  observed: ObservedProject | undefined,
  context: PlanContext,
): StackPlan {
  const byService = groupByService(observed);
  const services: ServicePlan[] = [];
  let drift = 0;
  for (const [name, desired] of stack.services) {
    const containers = byService.get(name) ?? [];
    const first = containers[0];
    if (first === undefined) {
      const empty = observed === undefined || observed.containers.length === 0;
      services.push({ name, change: 'create', why: missingWhy(name, context.applied ?? undefined, empty) });
      drift++;
      continue;
    }
    const stale = containers.find(
      (c) =>
        c.labels[LABEL_SERVICE_HASH] !== desired.hash ||
        c.labels[LABEL_MANAGED_BY] !== context.instance ||
        c.labels[LABEL_STACK] !== stack.id,
    );
    if (stale !== undefined) {
      const label = stale.labels[LABEL_SERVICE_HASH];
      const why =
        stale.labels[LABEL_MANAGED_BY] === undefined || label === undefined
          ? 'no stackd labels'
          : stale.labels[LABEL_MANAGED_BY] !== context.instance
            ? `managed by instance ${stale.labels[LABEL_MANAGED_BY] ?? ''}`
            : stale.labels[LABEL_STACK] !== stack.id
              ? `labelled for stack ${stale.labels[LABEL_STACK] ?? ''}`
              : recreateWhy(label, desired, context.applied?.[name]);
      services.push({ name, change: 'recreate', why });
      continue;
    }
    const image = context.digests?.get(name);
    if (image?.want !== undefined && image.want !== image.running) {
      services.push({
        name,
        change: 'recreate',
        why: `digest ${shortDigest(image.running)} → ${shortDigest(image.want)}`,
        digest: { from: image.running, to: image.want },
      });
      continue;
    }
    const down = containers.find((c) => !isHealthyState(c, desired.oneShot));
    if (down !== undefined) {
      services.push({ name, change: 'start', why: driftWhy(down) });
      drift++;
      continue;
    }
    const want = desired.replicas;
    if (want !== null && containers.length !== want) {
      const why = `drift (${containers.length} containers, ${want} wanted)`;
      services.push({ name, change: containers.length < want ? 'create' : 'remove', why });
      drift++;
    }
  }
  for (const [name] of byService) {
    if (!stack.services.has(name))
      services.push({ name, change: 'remove', why: 'gone (not in the desired stack)' });
  }
  if (services.length === 0) return { action: 'none', reason: 'in sync', services, driftOnly: false };
  if (observed === undefined || observed.containers.length === 0) {
    return { action: 'deploy', reason: 'not running', services, driftOnly: false };
  }
  const driftOnly = drift === services.length;
  const names = services.map((s) => reasonPart(s.name, s.why, driftOnly)).join(', ');
  return {
    action: 'update',
    reason: driftOnly ? `drift: ${names}` : `changed: ${names}`,
    services,
    driftOnly,
  };
}

/**
 * `x-stackd.recreate: stack`: a change to any service (not a self-heal of drift alone) recreates
 * every service of the stack, the unchanged ones with the why `recreate: stack`.
 */
export function wholeStack(plan: StackPlan, stack: DesiredStack): StackPlan {
  if (stack.intent?.recreate !== 'stack' || plan.action !== 'update' || plan.driftOnly) return plan;
  const named = new Set(plan.services.map((s) => s.name));
  const rest: ServicePlan[] = [...stack.services.keys()]
    .filter((name) => !named.has(name))
    .map((name) => ({ name, change: 'recreate', why: 'recreate: stack' }));
  return {
    ...plan,
    services: [...plan.services, ...rest],
    reason:
      rest.length === 0
        ? plan.reason
        : `${plan.reason}; recreate: stack (${rest.map((s) => s.name).join(', ')})`,
    forceRecreate: true,
  };
}

/** Plan for a stack that runs here (labelled as ours) but is not in the desired state. */
export function planRemoval(observed: ObservedProject): StackPlan {
  const names = [...new Set(observed.containers.map((c) => c.service))];
  return {
    action: 'remove',
    reason: 'not in the desired state',
    services: names.map((name) => ({ name, change: 'remove', why: 'gone (stack not in the desired state)' })),
    driftOnly: false,
  };
}

/** Containers of the project that stackd does not own (another instance, or no labels). */
export function foreignContainers(observed: ObservedProject, instance: string): ObservedContainer[] {
  return observed.containers.filter((c) => c.labels[LABEL_MANAGED_BY] !== instance);
}

/** The stack id a project's containers carry, if they are ours. */
export function ownedStackId(observed: ObservedProject, instance: string): string | undefined {
  const mine = observed.containers.find((c) => c.labels[LABEL_MANAGED_BY] === instance);
  return mine?.labels[LABEL_STACK];
}
