/** Which stacks exist: desired ones, ones running here under our instance label, recorded ones. */
import type { Observation, ObservedProject } from '../informer/types.js';
import type { Snapshot } from '../source/types.js';
import { foreignContainers, ownedStackId } from './plan.js';

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

/**
 * Projects other than `project` that run as stack `id` and are entirely ours: what a change of the
 * stack's project name (`name:`) in Git leaves behind.
 */
export function renamedProjects(
  observation: Observation,
  id: string,
  project: string,
  instance: string,
): string[] {
  const out: string[] = [];
  for (const p of observation.projects.values()) {
    if (p.project === project || p.containers.length === 0) continue;
    if (ownedStackId(p, instance) === id && foreignContainers(p, instance).length === 0) out.push(p.project);
  }
  return out.sort();
}
