/**
 * The labels an apply gives each service. Docker labels are immutable and compose recreates a
 * container whose labels change, so a service whose hash did not change keeps the revision and
 * compose hash it was last applied at (DESIGN.md §3): it is not recreated.
 */
import type { ObservedProject } from '../informer/types.js';
import {
  LABEL_COMPOSE_HASH,
  LABEL_MANAGED_BY,
  LABEL_REVISION,
  LABEL_SERVICE_HASH,
  LABEL_STACK,
} from '../labels/index.js';
import type { DesiredStack } from '../source/types.js';
import type { RevisionHash } from '../status/index.js';

export function serviceLabels(
  stack: DesiredStack,
  observed: ObservedProject | undefined,
  target: RevisionHash,
  instance: string,
): Record<string, Record<string, string>> {
  // No prototype: a service named `__proto__` is a key like any other.
  const out = Object.create(null) as Record<string, Record<string, string>>;
  for (const [name, service] of stack.services) {
    const current = observed?.containers.find(
      (c) =>
        c.service === name &&
        c.labels[LABEL_MANAGED_BY] === instance &&
        c.labels[LABEL_SERVICE_HASH] === service.hash &&
        c.labels[LABEL_REVISION] !== undefined &&
        c.labels[LABEL_COMPOSE_HASH] !== undefined,
    );
    out[name] = {
      [LABEL_MANAGED_BY]: instance,
      [LABEL_STACK]: stack.id,
      [LABEL_REVISION]: current?.labels[LABEL_REVISION] ?? target.revision,
      [LABEL_COMPOSE_HASH]: current?.labels[LABEL_COMPOSE_HASH] ?? target.composeHash,
      [LABEL_SERVICE_HASH]: service.hash,
    };
  }
  return out;
}

/**
 * What the runtime says a stack was last synced to: the labels of its most recently created
 * container of ours (the last apply recreates at least the services it changed).
 */
export function syncedFromLabels(
  observed: ObservedProject | undefined,
  instance: string,
): RevisionHash | null {
  let newest: { created: number; value: RevisionHash } | undefined;
  for (const c of observed?.containers ?? []) {
    const revision = c.labels[LABEL_REVISION];
    const composeHash = c.labels[LABEL_COMPOSE_HASH];
    if (c.labels[LABEL_MANAGED_BY] !== instance || revision === undefined || composeHash === undefined)
      continue;
    if (newest === undefined || c.created > newest.created)
      newest = { created: c.created, value: { revision, composeHash } };
  }
  return newest?.value ?? null;
}
