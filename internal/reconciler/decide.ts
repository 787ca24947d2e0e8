/** The pure decision for one stack: what to do, and why. The reconciler acts on it; `plan` prints it. */
import type { ObservedProject } from '../informer/types.js';
import { LABEL_MANAGED_BY } from '../labels/index.js';
import { type StackDigests, pendingUpdates } from '../images/digests.js';
import type { DesiredStack } from '../source/types.js';
import type { HeldFailure, Suspension } from '../status/index.js';
import type { AppliedService } from '../state/index.js';
import { type StackPlan, foreignContainers, planDesired, planRemoval, wholeStack } from './plan.js';
import { suspensionWords } from './intent.js';

export interface DecisionSettings {
  readonly enabled: boolean;
  readonly prune: boolean;
  readonly allowEmpty: boolean;
  readonly selfHeal: boolean;
}

export interface DecisionInput {
  /** The stack in the desired state, if it is there. */
  readonly desired: DesiredStack | undefined;
  /** Its observed project: the desired stack's project, or the project carrying our label. */
  readonly observed: ObservedProject | undefined;
  /** The desired state has no stack at all. */
  readonly desiredEmpty: boolean;
  readonly settings: DecisionSettings;
  readonly instance: string;
  /** A manual sync: apply even if in sync, self-heal even if off. */
  readonly force: boolean;
  /**
   * Other projects running as this stack (ours, labelled with its id): left behind when its
   * project name changed in Git (`name:`). See renamedProjects().
   */
  readonly renamedFrom?: readonly ObservedProject[];
  /**
   * The stack's recorded deterministic failure (one attempt per commit); it holds only while the
   * desired stack hash is the one that failed.
   */
  readonly held?: HeldFailure | null | undefined;
  /** The watched services' digests (image updates): a new one is applied, a held hash or not. */
  readonly digests?: StackDigests;
  /** The stack record's `applied` (names what changed in the plan). */
  readonly applied?: Readonly<Record<string, AppliedService>> | null | undefined;
  /** The suspension in force (intent.ts): nothing is applied or removed, drift is left alone. */
  readonly suspended?: Suspension | null | undefined;
  /** A dependency not synced at the desired revision, in words (intent.ts's waitingFor). */
  readonly waitingFor?: string | null | undefined;
}

export type Decision =
  /** The desired stack is invalid: failed until it changes; the runtime is left alone. */
  | { readonly kind: 'invalid'; readonly message: string }
  /** The project belongs to another stackd instance: failed, left alone. */
  | { readonly kind: 'foreign'; readonly message: string }
  | { readonly kind: 'in_sync'; readonly plan: StackPlan }
  /**
   * This desired stack hash failed deterministically before: not applied again until the hash
   * changes or a manual sync; the stack stays `failed`.
   */
  | { readonly kind: 'held_failure'; readonly message: string; readonly plan: StackPlan }
  /** Out of sync but not to be acted on (paused, self-heal or prune off, empty desired state). */
  | { readonly kind: 'hold'; readonly message: string; readonly plan: StackPlan }
  /** `removeFirst`: projects the stack ran as before a rename, taken down before the apply. */
  | { readonly kind: 'apply'; readonly plan: StackPlan; readonly removeFirst?: readonly string[] }
  | { readonly kind: 'remove'; readonly plan: StackPlan }
  /** Neither desired nor running. */
  | { readonly kind: 'gone' };

export function decide(input: DecisionInput): Decision {
  const { desired, observed, settings, instance, force } = input;
  if (desired !== undefined) {
    if (desired.error !== null || desired.composeHash === null) {
      return { kind: 'invalid', message: `invalid desired stack: ${desired.error ?? 'no compose hash'}` };
    }
    const other = observed?.containers.find(
      (c) => c.labels[LABEL_MANAGED_BY] !== undefined && c.labels[LABEL_MANAGED_BY] !== instance,
    );
    if (other !== undefined) {
      return {
        kind: 'foreign',
        message: `project ${desired.project} is managed by stackd instance ${other.labels[LABEL_MANAGED_BY] ?? ''}; leaving it alone`,
      };
    }
    const strays = [
      ...new Set(
        (observed === undefined ? [] : foreignContainers(observed, instance))
          .filter((c) => !desired.services.has(c.service))
          .map((c) => c.service),
      ),
    ];
    if (strays.length > 0) {
      return {
        kind: 'foreign',
        message: `project ${desired.project} has containers stackd did not create for services not in Git (${strays.join(', ')}); remove them or add the services, stackd will not`,
      };
    }
    const plan = wholeStack(
      planDesired(desired, observed, {
        instance,
        ...(input.digests === undefined ? {} : { digests: input.digests }),
        applied: input.applied ?? null,
      }),
      desired,
    );
    // Suspended: looked at, never acted on (a manual sync neither); in sync stays in sync.
    if (input.suspended != null && (plan.action !== 'none' || (input.renamedFrom ?? []).length > 0))
      return { kind: 'hold', message: `${suspensionWords(input.suspended)}; ${plan.reason}`, plan };
    // One attempt per commit: a hash that failed stays failed, even if a look finds it running
    // (a container its restart policy keeps bringing back), until the hash changes or a manual sync.
    const held = input.held;
    // A registry digest that came since is a new attempt, as a new commit is.
    if (
      held != null &&
      held.composeHash === desired.composeHash &&
      !force &&
      pendingUpdates(input.digests).length === 0
    ) {
      return { kind: 'held_failure', message: held.message, plan };
    }
    const renamed = input.renamedFrom ?? [];
    if (renamed.length > 0) {
      const names = renamed.map((p) => p.project);
      const old = names.join(', ');
      const mixed = renamed.find((p) => foreignContainers(p, instance).length > 0);
      const why =
        mixed !== undefined
          ? `project ${mixed.project} also has containers stackd did not create, so stackd will not remove it`
          : !settings.enabled
            ? 'reconciliation disabled'
            : !settings.prune
              ? 'removal is disabled (reconcile.prune=false)'
              : undefined;
      if (why !== undefined) {
        // Not both at once: the two would share ports and bind-mounted data.
        return {
          kind: 'hold',
          message: `project renamed to ${desired.project} in Git, but this stack still runs as ${old}; ${why}: take it down (docker compose -p ${mixed?.project ?? names[0] ?? ''} down) and stackd deploys ${desired.project}`,
          plan,
        };
      }
      const reason = `project renamed from ${old}: removing it, then ${plan.action === 'none' ? 'up' : plan.reason}`;
      return {
        kind: 'apply',
        plan: { ...plan, action: plan.action === 'none' ? 'update' : plan.action, reason },
        removeFirst: names,
      };
    }
    if (plan.action === 'none' && !force) return { kind: 'in_sync', plan };
    if (!settings.enabled) return { kind: 'hold', message: `reconciliation disabled; ${plan.reason}`, plan };
    // dependsOn: applied once every dependency is synced at this revision (a manual sync goes ahead).
    // A self-heal of drift alone is not a change: what runs is kept running meanwhile.
    if (input.waitingFor != null && !force && !plan.driftOnly)
      return { kind: 'hold', message: `${input.waitingFor}; ${plan.reason}`, plan };
    if (plan.driftOnly && !settings.selfHeal && !force) {
      return { kind: 'hold', message: `self-heal disabled; ${plan.reason}`, plan };
    }
    return { kind: 'apply', plan };
  }
  if (observed === undefined || observed.containers.length === 0) return { kind: 'gone' };
  const plan = planRemoval(observed);
  const hold =
    input.suspended != null
      ? `not in the desired state; ${suspensionWords(input.suspended)}`
      : !settings.prune
        ? 'not in the desired state; removal is disabled (reconcile.prune=false)'
        : input.desiredEmpty && !settings.allowEmpty
          ? 'not in the desired state, but the desired state has no stacks at all: refusing to remove every stack (set reconcile.allowEmpty=true to allow)'
          : foreignContainers(observed, instance).length > 0
            ? `not in the desired state, but project ${observed.project} also has containers stackd does not own: not removing it`
            : !settings.enabled
              ? 'not in the desired state; reconciliation disabled'
              : undefined;
  return hold === undefined ? { kind: 'remove', plan } : { kind: 'hold', message: hold, plan };
}
