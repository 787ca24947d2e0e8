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

/** The project names the snapshot's stacks want, computed once per snapshot. */
const wantedCache = new WeakMap<Snapshot, ReadonlySet<string>>();
export function desiredProjects(snapshot: Snapshot): ReadonlySet<string> {
  let wanted = wantedCache.get(snapshot);
  if (wanted === undefined) {
    wanted = new Set([...snapshot.stacks.values()].map((s) => s.project));
    wantedCache.set(snapshot, wanted);
  }
  return wanted;
}

/** Our projects by the stack id they carry, computed once per observation (which is never mutated). */
const ownedCache = new WeakMap<Observation, { instance: string; byStack: Map<string, ObservedProject[]> }>();
function ownedByStack(observation: Observation, instance: string): Map<string, ObservedProject[]> {
  const cached = ownedCache.get(observation);
  if (cached?.instance === instance) return cached.byStack;
  const byStack = new Map<string, ObservedProject[]>();
  for (const p of observation.projects.values()) {
    const id = ownedStackId(p, instance);
    if (id === undefined) continue;
    const list = byStack.get(id) ?? [];
    list.push(p);
    byStack.set(id, list);
  }
  ownedCache.set(observation, { instance, byStack });
  return byStack;
}

/**
 * Projects other than `project` that run as stack `id` (containers of ours carry its id): what a
 * change of the stack's project name (`name:`) in Git leaves behind. Projects another stack in Git
 * wants are not: that stack takes them over. Sorted by name.
 */
export function renamedProjects(
  observation: Observation,
  snapshot: Snapshot,
  id: string,
  project: string,
  instance: string,
): ObservedProject[] {
  const wanted = desiredProjects(snapshot);
  return (ownedByStack(observation, instance).get(id) ?? [])
    .filter((p) => p.project !== project && !wanted.has(p.project))
    .sort((a, b) => (a.project < b.project ? -1 : a.project > b.project ? 1 : 0));
}

/**
 * The project a stack that is not in Git runs as, if any: one of ours carrying its id that no stack
 * in Git wants (a project another stack now wants — a directory moved, `name:` kept — is that
 * stack's to take over, never this one's to remove).
 */
export function leftoverProject(
  observation: Observation,
  snapshot: Snapshot,
  id: string,
  instance: string,
): ObservedProject | undefined {
  const wanted = desiredProjects(snapshot);
  return ownedByStack(observation, instance)
    .get(id)
    ?.find((p) => !wanted.has(p.project));
}
