/** Per-service status lines for the API: state, health and whether it matches the desired hash. */
import type { ObservedProject } from '../informer/types.js';
import { LABEL_MANAGED_BY, LABEL_SERVICE_HASH } from '../labels/index.js';
import type { StackDigests } from '../images/digests.js';
import type { DesiredStack } from '../source/types.js';
import type { ServiceStatus } from '../status/index.js';
import { isHealthyState } from './plan.js';

export function serviceStatuses(
  stack: DesiredStack,
  observed: ObservedProject | undefined,
  instance: string,
  digests?: StackDigests,
): ServiceStatus[] {
  const out: ServiceStatus[] = [];
  for (const [name, desired] of stack.services) {
    const containers = observed?.containers.filter((c) => c.service === name) ?? [];
    const first = containers[0];
    const counts = containers.map((c) => c.restartCount);
    out.push({
      name,
      state: first?.state ?? 'missing',
      health: first?.health ?? null,
      restarts:
        containers.length === 0 || counts.some((n) => n === undefined)
          ? null
          : counts.reduce<number>((sum, n) => sum + (n ?? 0), 0),
      ...(desired.image == null ? {} : { image: desired.image }),
      ...imageFields(digests?.get(name)),
      inSync:
        containers.length > 0 &&
        containers.every(
          (c) =>
            c.labels[LABEL_SERVICE_HASH] === desired.hash &&
            c.labels[LABEL_MANAGED_BY] === instance &&
            isHealthyState(c, desired.oneShot),
        ),
    });
  }
  for (const c of observed?.containers ?? []) {
    if (!stack.services.has(c.service) && !out.some((s) => s.name === c.service)) {
      out.push({ name: c.service, state: c.state, health: c.health, inSync: false });
    }
  }
  return out;
}

/** `digest` and `availableDigest` of a watched service (absent for the others). */
function imageFields(
  d: { readonly running?: string; readonly available?: string } | undefined,
): Pick<ServiceStatus, 'digest' | 'availableDigest'> {
  if (d === undefined) return {};
  return {
    digest: d.running ?? null,
    availableDigest: d.available !== undefined && d.available !== d.running ? d.available : null,
  };
}
