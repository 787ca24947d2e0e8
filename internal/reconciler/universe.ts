/** Which stacks exist: desired ones, ones running here under our instance label, recorded ones. */
import type { Observation, ObservedProject } from '../informer/types.js';
import type { Snapshot } from '../source/types.js';
import { ownedStackId } from './plan.js';

/** Projects on the engine whose containers carry our instance label, by the stack id they carry. */
export function runtimeStacks(observation: Observation, instance: string): Map<string, ObservedProject> {
  const out = new Map<string, ObservedProject>();
  for (const project of observation.projects.values()) {
    const id = ownedStackId(project, instance);
    if (id !== undefined) out.set(id, project);
  }
  return out;
}

/** Every stack id to reconcile or report: in scope, desired or running as ours or recorded. */
export function stackIds(
  snapshot: Snapshot | undefined,
  observation: Observation,
  recorded: Iterable<string>,
  instance: string,
  inScope: (id: string) => boolean,
): string[] {
  const ids = new Set<string>(snapshot?.stacks.keys() ?? []);
  for (const id of runtimeStacks(observation, instance).keys()) ids.add(id);
  for (const id of recorded) ids.add(id);
  return [...ids].filter(inScope).sort();
}
