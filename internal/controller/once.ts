/** One pass for `stackd sync --once` and `stackd plan`: fetch, observe, reconcile or preview. */
import { preview, stackIds, stacksResponse, type StackPreview } from '../reconciler/index.js';
import type { StacksResponse } from '../status/index.js';
import type { Runtime } from './runtime.js';
import { LogEvent } from '../log/index.js';

export interface OnceResult {
  readonly response: StacksResponse;
  /** The fetch failed; the pass used the last good desired state kept locally, if any. */
  readonly fetchError: string | null;
}

async function prepare(runtime: Runtime): Promise<string | null> {
  let fetchError: string | null = null;
  await runtime.source.loadCached();
  try {
    await runtime.source.refresh();
  } catch (error) {
    fetchError = (error as Error).message;
    runtime.logger.error(`fetch failed: ${fetchError}`, {
      event: LogEvent.sourceFetch,
      result: 'failure',
      reason: fetchError,
    });
  }
  await runtime.informer.start();
  return fetchError;
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

/** Reconciles every in-scope stack once, one at a time; failures are recorded, not retried. */
export async function syncOnce(runtime: Runtime): Promise<OnceResult> {
  const fetchError = await prepare(runtime);
  try {
    for (const id of ids(runtime)) {
      try {
        await runtime.reconciler.reconcile({ stack: id });
      } catch {
        // recorded in the state store as `failed` with its message
      }
    }
    const response = stacksResponse(
      ids(runtime),
      runtime.state.data.stacks,
      runtime.source.current(),
      runtime.settings().enabled,
    );
    return { response, fetchError };
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
        runtime.state.stack(id)?.held,
      ),
    );
    return { revision: snapshot.revision, stacks, fetchError };
  } finally {
    await runtime.informer.stop();
  }
}
