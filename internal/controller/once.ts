/** One pass for `stackd sync --once` and `stackd plan`: fetch, observe, reconcile or preview. */
import { preview, stackIds, stacksResponse, type StackPreview } from '../reconciler/index.js';
import { realClock } from '../../pkg/clock/index.js';
import type { SourceStatus, StacksResponse } from '../status/index.js';
import { SourceHealth } from './source_health.js';
import type { Runtime } from './runtime.js';
import { LogEvent } from '../log/index.js';

export interface OnceResult {
  /** Every in-scope stack, or the ones asked for that exist. */
  readonly response: StacksResponse;
  /** Stacks asked for that are neither desired nor running. */
  readonly unknown: readonly string[];
  /** The fetch failed; the pass used the last good desired state kept locally, if any. */
  readonly fetchError: string | null;
}

/**
 * Loads the cached snapshot and fetches. A failed fetch is one line: the source's own
 * (`source.fetch`, warn), which the commands do not repeat; only under `log.level: error`, which
 * hides it, is it logged here as an error (the pass exits 3 for it, so it must be said).
 */
async function prepare(runtime: Runtime): Promise<string | null> {
  let fetchError: string | null = null;
  await runtime.source.loadCached();
  try {
    await runtime.source.refresh();
  } catch (error) {
    fetchError = (error as Error).message;
    if (runtime.config.log.level === 'error') {
      runtime.logger.error(fetchError, { event: LogEvent.sourceFetch, result: 'failure' });
    }
  }
  await runtime.informer.start();
  return fetchError;
}

/** The one fetch of this pass, as the API's `source` shows it. */
function sourceStatus(runtime: Runtime, fetchError: string | null): SourceStatus {
  const health = new SourceHealth(runtime.config.source.url, runtime.config.source.branch, realClock);
  if (fetchError === null) health.succeeded();
  else health.failed(fetchError);
  return health.view();
}

function ids(runtime: Runtime): string[] {
  return stackIds(
    runtime.source.current(),
    runtime.informer.current(),
    Object.keys(runtime.state.data.stacks),
    runtime.config.instance,
    runtime.inScope,
  );
}

/**
 * Reconciles every in-scope stack once, one at a time; failures are recorded, not retried. With
 * `only`, just those stacks, forced (as a manual sync: applied even if in sync or held).
 */
export async function syncOnce(runtime: Runtime, only?: readonly string[]): Promise<OnceResult> {
  const fetchError = await prepare(runtime);
  try {
    const known = ids(runtime);
    const chosen = only === undefined ? known : only.filter((id) => known.includes(id));
    for (const id of chosen) {
      try {
        await runtime.reconciler.reconcile({ stack: id, force: only !== undefined });
      } catch {
        // recorded in the state store as `failed` with its message
      }
    }
    const listed = ids(runtime);
    const response = stacksResponse(
      only === undefined ? listed : listed.filter((id) => chosen.includes(id)),
      runtime.state.data.stacks,
      runtime.source.current(),
      runtime.settings().enabled,
      sourceStatus(runtime, fetchError),
    );
    return { response, fetchError, unknown: only?.filter((id) => !known.includes(id)) ?? [] };
  } finally {
    await runtime.informer.stop();
    await runtime.state.flush();
  }
}

export interface PlanResult {
  readonly revision: string | null;
  readonly stacks: readonly StackPreview[];
  readonly fetchError: string | null;
}

/** What a pass would do, changing nothing (the state file is not written). */
export async function planOnce(runtime: Runtime): Promise<PlanResult> {
  const fetchError = await prepare(runtime);
  try {
    const snapshot = runtime.source.current();
    if (snapshot === undefined)
      return { revision: null, stacks: [], fetchError: fetchError ?? 'no desired state' };
    const observation = runtime.informer.current();
    if (!observation.up) throw new Error(`Docker engine unreachable: ${observation.error ?? 'no answer'}`);
    const stacks = ids(runtime).map((id) =>
      preview(
        id,
        snapshot,
        observation,
        runtime.settings(),
        runtime.config.instance,
        runtime.state.stack(id),
        (dep) => runtime.state.stack(dep),
      ),
    );
    return { revision: snapshot.revision, stacks, fetchError };
  } finally {
    await runtime.informer.stop();
  }
}
