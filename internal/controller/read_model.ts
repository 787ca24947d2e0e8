/**
 * The API read model: which stacks are known (in scope, desired, observed or recorded), their
 * status as `GET /api/v1/stacks` and `/stacks/{id}` show it, and readiness. Reads only; every
 * call re-reads the latest snapshot, observation and records.
 */
import { type EngineHealth, stackIds, stackStatus, stacksResponse } from '../reconciler/index.js';
import type { SourceStatus, StackDetail, StacksResponse } from '../status/index.js';
import type { ProjectMapperOptions } from './enqueue_mapped.js';

/** What the read model reads: the same views of the world as the event mapping, and more. */
export interface ReadModelOptions extends ProjectMapperOptions {
  /** Whether reconciliation is on now (see pause.ts). */
  readonly reconcileEnabled: () => boolean;
  /** Whether the engine starts containers. @default always */
  readonly engine?: Pick<EngineHealth, 'stalled'> | undefined;
  /** What the last fetches found (see source_health.ts). */
  readonly sourceStatus: () => SourceStatus;
}

export class ReadModel {
  readonly #o: ReadModelOptions;

  constructor(options: ReadModelOptions) {
    this.#o = options;
  }

  /** The stacks reported, sorted in code-unit order. */
  knownIds(): string[] {
    return stackIds(
      this.#o.source.current(),
      this.#o.informer.current(),
      Object.keys(this.#o.state.data.stacks),
      this.#o.instance,
      this.#o.inScope,
    );
  }

  stacks(): StacksResponse {
    return stacksResponse(
      this.knownIds(),
      this.#o.state.data.stacks,
      this.#o.source.current(),
      this.#o.reconcileEnabled(),
      this.#o.sourceStatus(),
    );
  }

  stack(id: string): StackDetail | undefined {
    if (!this.knownIds().includes(id)) return undefined;
    const record = this.#o.state.stack(id);
    return { ...stackStatus(id, record, this.#o.source.current()), history: record?.history ?? [] };
  }

  /** Undefined when ready: a desired state is known, and the Docker engine answers and starts containers. */
  notReadyReason(): string | undefined {
    if (this.#o.source.current() === undefined) {
      return 'no desired state loaded yet (first fetch pending or failing)';
    }
    const observation = this.#o.informer.current();
    if (!observation.up) return `the Docker engine is not reachable: ${observation.error ?? 'no answer'}`;
    return this.#o.engine?.stalled();
  }
}
