/**
 * Docker events → stacks (controller-runtime's `enqueue_mapped.go`): the informer says a compose
 * project changed, and this maps it to the stack ids to look at again. The work queue decides
 * whether each is added now (see `Enqueuer.addObserved`); this only maps.
 */
import type { Informer } from '../informer/types.js';
import { runtimeStacks } from '../reconciler/index.js';
import type { Source } from '../source/types.js';
import type { StateStore } from '../state/index.js';

export interface ProjectMapperOptions {
  readonly source: Pick<Source, 'current'>;
  readonly informer: Pick<Informer, 'current'>;
  readonly state: StateStore;
  readonly instance: string;
  readonly inScope: (id: string) => boolean;
}

export class ProjectMapper {
  readonly #o: ProjectMapperOptions;
  /** Project → the stack id its containers carried when last seen (see `map`). */
  readonly #owners = new Map<string, string>();

  constructor(options: ProjectMapperOptions) {
    this.#o = options;
  }

  /** Learns which stack each project the engine runs as ours belongs to (after the first list). */
  learnObserved(): void {
    for (const [id, observed] of runtimeStacks(this.#o.informer.current(), this.#o.instance))
      this.#owners.set(observed.project, id);
  }

  /**
   * The stack ids to look at after `project` changed, in the order found (an id may come twice:
   * adding a key twice is harmless). Updates which stack owns the project.
   */
  map(project: string): string[] {
    const ids: string[] = [];
    // The stack a project last ran as: once its containers are gone (a renamed stack's old project
    // taken down by hand), nothing else links the project to the stack waiting for it to go.
    const owner = this.#owners.get(project);
    if (owner !== undefined && this.#o.inScope(owner)) ids.push(owner);
    if (!this.#o.informer.current().projects.has(project)) this.#owners.delete(project);
    const snapshot = this.#o.source.current();
    for (const stack of snapshot?.stacks.values() ?? []) {
      if (stack.project === project) {
        this.#owners.set(project, stack.id);
        ids.push(stack.id);
        return ids;
      }
    }
    for (const [id, observed] of runtimeStacks(this.#o.informer.current(), this.#o.instance)) {
      if (observed.project !== project) continue;
      this.#owners.set(project, id);
      if (this.#o.inScope(id)) ids.push(id);
    }
    for (const [id, record] of Object.entries(this.#o.state.data.stacks)) {
      if (record.project === project && this.#o.inScope(id)) ids.push(id);
    }
    return ids;
  }
}
