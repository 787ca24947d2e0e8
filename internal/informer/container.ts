/** From the engine's container list to the observed cache's shape. */
import type Dockerode from 'dockerode';
import { COMPOSE_ONEOFF, COMPOSE_PROJECT, COMPOSE_SERVICE } from '../labels/index.js';
import { parseExitCode, parseHealth } from './status.js';
import type { ObservedContainer, ObservedProject } from './types.js';

/** `compose run` containers: not part of the project's desired shape. */
export function isOneOff(labels: Readonly<Record<string, string>>): boolean {
  return labels[COMPOSE_ONEOFF] === 'True';
}

export function toObservedContainer(info: Dockerode.ContainerInfo): ObservedContainer {
  const labels = info.Labels;
  // Linked containers carry extra names (`/other/alias`); the own name has one slash.
  const name = info.Names.find((n) => n.lastIndexOf('/') === 0) ?? info.Names[0] ?? info.Id;
  return {
    id: info.Id,
    name: name.replace(/^\//, ''),
    project: labels[COMPOSE_PROJECT] ?? '',
    service: labels[COMPOSE_SERVICE] ?? '',
    state: info.State.toLowerCase(),
    exitCode: parseExitCode(info.Status),
    health: parseHealth(info.Status),
    labels: { ...labels },
    image: info.Image,
    imageId: info.ImageID,
    created: info.Created,
  };
}

/** Group a container list by compose project, leaving out one-off containers; sorted for stable output. */
export function groupByProject(infos: readonly Dockerode.ContainerInfo[]): Map<string, ObservedProject> {
  const byProject = new Map<string, ObservedContainer[]>();
  for (const info of infos) {
    const project = info.Labels[COMPOSE_PROJECT];
    if (project === undefined || isOneOff(info.Labels)) continue;
    const list = byProject.get(project) ?? [];
    list.push(toObservedContainer(info));
    byProject.set(project, list);
  }
  const projects = new Map<string, ObservedProject>();
  for (const [project, containers] of [...byProject].sort(([a], [b]) => a.localeCompare(b))) {
    containers.sort((a, b) => a.service.localeCompare(b.service) || a.name.localeCompare(b.name));
    projects.set(project, { project, containers });
  }
  return projects;
}

function sameContainer(a: ObservedContainer, b: ObservedContainer | undefined): boolean {
  return (
    b !== undefined &&
    a.id === b.id &&
    a.name === b.name &&
    a.state === b.state &&
    a.exitCode === b.exitCode &&
    a.health === b.health &&
    a.image === b.image &&
    a.imageId === b.imageId
  );
}

/** Same containers in the same states: a re-list that changed nothing notifies nobody. */
export function sameProject(a: ObservedProject | undefined, b: ObservedProject | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return (
    a.containers.length === b.containers.length &&
    a.containers.every((c, i) => sameContainer(c, b.containers[i]))
  );
}
