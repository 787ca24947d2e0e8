/** Shared pieces of the informer tests: compose projects on the real engine, counted API calls. */
import { join } from 'node:path';
import type Dockerode from 'dockerode';
import { createComposeRunner, type ComposeTarget } from '../../internal/compose/index.js';
import { IMAGE_V1, makeTempDir, uniqueProject, writeCompose } from '../helpers/docker.js';

export const compose = createComposeRunner({ command: 'docker compose' });

/** A service on the test image that dies at once on stop (sleep as PID 1 ignores SIGTERM). */
export function service(name: string, extra = ''): string {
  return `  ${name}:\n    image: ${IMAGE_V1}\n    stop_signal: SIGKILL\n${extra}`;
}

export class Projects {
  readonly names = new Set<string>();
  readonly dirs: string[] = [];

  async target(name: string, services: string[]): Promise<ComposeTarget> {
    const project = uniqueProject(name);
    this.names.add(project);
    const dir = await makeTempDir('stackd-informer-');
    this.dirs.push(dir);
    await writeCompose(dir, `services:\n${services.join('')}`);
    return { project, dir, files: [join(dir, 'compose.yaml')] };
  }
}

/** Wrap a client's listContainers to record the label filter of every call. */
export function countLists(docker: Dockerode): string[] {
  const calls: string[] = [];
  const original = docker.listContainers.bind(docker) as (
    o: Dockerode.ContainerListOptions,
  ) => Promise<unknown>;
  (docker as { listContainers: unknown }).listContainers = (options: Dockerode.ContainerListOptions) => {
    const filters = options.filters as { label?: string[] } | undefined;
    calls.push(filters?.label?.join(',') ?? '');
    return original(options);
  };
  return calls;
}

/** Handle kinds that keep the event loop alive, counted. */
export function liveHandles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) {
    if (kind === 'TTYWrap' || kind === 'FSReqCallback') continue;
    counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}
