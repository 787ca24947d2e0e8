/** Small builders for the reconciler's pure-logic tests. */
import { ComposeError } from '../compose/errors.js';
import type { ObservedContainer, ObservedProject } from '../informer/types.js';
import {
  LABEL_COMPOSE_HASH,
  LABEL_MANAGED_BY,
  LABEL_REVISION,
  LABEL_SERVICE_HASH,
  LABEL_STACK,
} from '../labels/index.js';
import type { DesiredService, DesiredStack } from '../source/types.js';

export const INSTANCE = 'test-host';

export function desiredStack(
  id: string,
  services: Record<string, string | Partial<DesiredService>>,
  extra: Partial<DesiredStack> = {},
): DesiredStack {
  const map = new Map<string, DesiredService>();
  for (const [name, s] of Object.entries(services)) {
    const fields = typeof s === 'string' ? { hash: s } : s;
    map.set(name, {
      name,
      hash: `sha256:${name}`,
      oneShot: false,
      healthcheck: false,
      replicas: 1,
      build: false,
      ...fields,
    });
  }
  return {
    id,
    dir: id,
    project: id.replace(/\//g, '_'),
    composeFiles: ['compose.yaml'],
    composeHash: `sha256:stack-${id}`,
    services: map,
    error: null,
    files: new Map(),
    ...extra,
  };
}

let seq = 0;
export function container(
  project: string,
  service: string,
  fields: Partial<ObservedContainer> & { hash?: string; managedBy?: string | null; stack?: string } = {},
): ObservedContainer {
  const { hash, managedBy, stack, labels, ...rest } = fields;
  const l: Record<string, string> = { ...labels };
  if (managedBy !== null) {
    l[LABEL_MANAGED_BY] = managedBy ?? INSTANCE;
    l[LABEL_STACK] = stack ?? project;
    l[LABEL_SERVICE_HASH] = hash ?? `sha256:${service}`;
    l[LABEL_REVISION] = 'rev1';
    l[LABEL_COMPOSE_HASH] = 'sha256:old';
  }
  seq++;
  return {
    id: `c${seq}`,
    name: `${project}-${service}-1`,
    project,
    service,
    state: 'running',
    exitCode: null,
    health: null,
    labels: l,
    image: 'img',
    created: seq,
    ...rest,
  };
}

export function project(name: string, containers: ObservedContainer[]): ObservedProject {
  return { project: name, containers };
}

/** compose exited 1 with `stderr` as its stderr tail (its last line in the message). */
export function composeExited(stderr: string, verb = 'up'): ComposeError {
  return new ComposeError(`docker compose ${verb} failed: ${stderr.split('\n').at(-1) ?? ''}`, {
    command: `docker compose ${verb}`,
    exitCode: 1,
    stderrTail: stderr,
    timedOut: false,
    aborted: false,
  });
}

/** compose killed by the timeout. */
export function composeTimedOut(): ComposeError {
  return new ComposeError('timed out', {
    command: 'docker compose up',
    exitCode: null,
    stderrTail: '',
    timedOut: true,
    aborted: false,
  });
}
