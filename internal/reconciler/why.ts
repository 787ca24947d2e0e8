/**
 * Why a service is to change, in the words operators read in the plan, the API's history, the
 * runs and notifications: `new`, `gone`, `image a → b`, `definition`, `file conf/app.conf`,
 * `digest sha256:… → sha256:…`, `drift (exited 1)`. What the containers run is compared with the
 * parts of the definition last applied (StackRecord.applied): without them (state rebuilt from
 * labels) a changed hash is only `service hash … → …`.
 */
import type { ServiceParts } from '../../pkg/composehash/index.js';
import type { ObservedContainer } from '../informer/types.js';
import type { DesiredStack } from '../source/types.js';
import type { AppliedService } from '../state/index.js';
import type { ServiceChangeWhy } from '../status/index.js';

/** Files named one by one in a `why`; more are counted. */
const FILES_NAMED = 3;

const short = (hash: string | undefined): string => (hash === undefined ? 'none' : hash.slice(0, 19));

/** What differs between the parts last applied and the desired ones. */
export function partsWhy(before: ServiceParts, after: ServiceParts): string {
  const words: string[] = [];
  if (before.image !== after.image) words.push(`image ${before.image ?? 'none'} → ${after.image ?? 'none'}`);
  if (before.definition !== after.definition) words.push('definition');
  const paths = [...new Set([...Object.keys(before.files), ...Object.keys(after.files)])]
    .filter((path) => before.files[path] !== after.files[path])
    .sort();
  if (paths.includes('*')) words.push('files');
  else {
    words.push(...paths.slice(0, FILES_NAMED).map((path) => `file ${path}`));
    if (paths.length > FILES_NAMED) words.push(`${paths.length - FILES_NAMED} more files`);
  }
  // Same parts, another hash: the name, or a stackd that hashes differently.
  return words.length === 0 ? 'definition' : words.join(', ');
}

/** A recreate of a service whose container runs `label` (a service hash) and should run `desired`. */
export function recreateWhy(
  label: string | undefined,
  desired: { readonly hash: string; readonly parts?: ServiceParts },
  applied: AppliedService | undefined,
): string {
  if (applied !== undefined && applied.hash === label && desired.parts !== undefined)
    return partsWhy(applied.parts, desired.parts);
  return `service hash ${short(label)} → ${short(desired.hash)}`;
}

/** A container of a service that should run, but is not at rest: `drift (exited 1)`. */
export function driftWhy(c: ObservedContainer): string {
  if (c.state === 'running') return `drift (${c.health ?? 'not ready'})`;
  if (c.state === 'exited') return `drift (exited ${c.exitCode ?? '?'})`;
  return `drift (${c.state})`;
}

/**
 * A service without a container: `new` when it never ran here (not in the record of the last
 * apply, or the stack runs nothing at all), else `drift (removed)`.
 */
export function missingWhy(
  name: string,
  applied: Readonly<Record<string, AppliedService>> | undefined,
  projectEmpty: boolean,
): string {
  if (applied !== undefined) return Object.hasOwn(applied, name) ? 'drift (removed)' : 'new';
  return projectEmpty ? 'new' : 'drift (no container)';
}

/**
 * A service's why inside a stack's reason: `app (exited 1)` when every change is drift (the
 * reason starts `drift:`), else `app (drift: exited 1)` among the others.
 */
export function reasonPart(name: string, why: string, driftOnly: boolean): string {
  const drift = /^drift \((.*)\)$/.exec(why);
  if (drift === null) return `${name} (${why})`;
  return driftOnly ? `${name} (${drift[1] ?? ''})` : `${name} (drift: ${drift[1] ?? ''})`;
}

/** The plan's services as recorded in history, runs and notifications. */
export function changesOf(plan: { readonly services: readonly ServicePlanLike[] }): ServiceChangeWhy[] {
  return plan.services.map((s) => ({ service: s.name, change: s.change, why: s.why }));
}

interface ServicePlanLike {
  readonly name: string;
  readonly change: string;
  readonly why: string;
}

/** What a stack's services run once it is in sync with `stack`: its record's `applied`. */
export function appliedOf(stack: DesiredStack): Record<string, AppliedService> | null {
  const out = Object.create(null) as Record<string, AppliedService>;
  for (const [name, service] of stack.services) {
    // A stack read by an older stackd (tests' hand-made stacks) has no parts: nothing to keep.
    if (service.parts === undefined) return null;
    out[name] = { hash: service.hash, parts: service.parts };
  }
  return out;
}
