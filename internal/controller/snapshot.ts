/**
 * What a new desired snapshot changes at once, before the queue reaches any stack: stacks it
 * takes out of sync say so.
 */
import type { Snapshot } from '../source/types.js';
import type { StackRecord, StateStore } from '../state/index.js';
import type { ControllerHooks } from './hooks.js';

/**
 * A stack reported `synced` whose desired hash the new snapshot changes is not synced any more:
 * say so now (`out_of_sync`, "queued"), in the API and /metrics, not when the queue reaches it.
 */
export function markQueued(
  state: StateStore,
  hooks: ControllerHooks | undefined,
  snapshot: Snapshot,
  reconcileEnabled: boolean,
): void {
  for (const [id, desired] of snapshot.stacks) {
    const record = state.stack(id);
    if (record?.status !== 'synced' || record.synced?.composeHash === desired.composeHash) continue;
    const changed = `the desired state changed at ${snapshot.revision.slice(0, 12)}`;
    const queued: StackRecord = {
      ...record,
      status: 'out_of_sync',
      // Paused, nothing is queued to apply it: say so rather than "queued".
      message: reconcileEnabled ? `queued: ${changed}` : `reconciliation disabled; ${changed}`,
    };
    state.setStack(id, queued);
    hooks?.stackRecord?.(id, queued);
  }
}
