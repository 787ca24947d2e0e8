/**
 * Which services an apply builds before `compose up`. `up` never rebuilds an image that exists, so
 * a service with `build:` whose definition or context changed would be recreated from its old
 * image: those are built first (`compose build SERVICES`), and only those. A service runs the
 * image it was built from as long as its service hash (which covers its build context) is the
 * one on its containers' labels.
 *
 * Not chosen here, left to compose's `up` as compose does it: an image that is missing (pruned by
 * hand) is built, a service with `pull_policy: build` is rebuilt at every `up` (from the cache
 * when nothing changed: the same image, the container kept), and `pull_policy: always` pulls
 * `image:` first.
 */
import type { ObservedProject } from '../informer/types.js';
import { LABEL_MANAGED_BY, LABEL_SERVICE_HASH } from '../labels/index.js';
import type { DesiredStack } from '../source/types.js';

/**
 * The services of `stack` with `build:` that are not running their desired hash: new, changed,
 * or without a container of ours carrying the hash (any container of the service still at another
 * hash counts as changed). Sorted by name.
 */
export function servicesToBuild(
  stack: DesiredStack,
  observed: ObservedProject | undefined,
  instance: string,
): string[] {
  const out: string[] = [];
  for (const [name, service] of stack.services) {
    if (!service.build) continue;
    const containers = (observed?.containers ?? []).filter(
      (c) => c.service === name && c.labels[LABEL_MANAGED_BY] === instance,
    );
    const current =
      containers.length > 0 && containers.every((c) => c.labels[LABEL_SERVICE_HASH] === service.hash);
    if (!current) out.push(name);
  }
  return out.sort();
}
