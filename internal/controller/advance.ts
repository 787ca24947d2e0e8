/**
 * What a new snapshot costs for the stacks it did not change: nothing per stack but this. A stack
 * whose desired state is the very object of the previous snapshot (its Git tree is unchanged, so
 * the source reused it) and that is synced at the previous snapshot's revision, with no work
 * queued, running or delayed for it, is synced at the new revision too: its record advances here,
 * in one loop, instead of one reconcile each (which would find it in sync from the caches and
 * record the same). Everything else goes through the queue as before.
 */
import type { Snapshot } from '../source/types.js';
import type { StackRecord, StateStore } from '../state/index.js';
import type { ControllerHooks } from './hooks.js';

export interface AdvanceOptions {
  readonly state: StateStore;
  readonly hooks?: ControllerHooks | undefined;
  /** Whether work for the stack is queued, running or waiting out a delay. */
  readonly pending: (id: string) => boolean;
  /** The snapshot handled before this one. */
  readonly previous: Snapshot | undefined;
  readonly snapshot: Snapshot;
  /** ISO time stamped as `synced.at`. */
  readonly at: string;
}

/** Advance every unchanged synced stack to `snapshot.revision`; returns the ids advanced. */
export function advanceUnchanged(options: AdvanceOptions): Set<string> {
  const { state, hooks, previous, snapshot } = options;
  const advanced = new Set<string>();
  if (previous === undefined || previous.revision === snapshot.revision) return advanced;
  for (const [id, desired] of snapshot.stacks) {
    if (previous.stacks.get(id) !== desired || desired.composeHash === null) continue;
    const record = state.stack(id);
    const synced = record?.synced;
    if (record?.status !== 'synced' || synced == null) continue;
    if (synced.revision !== previous.revision || synced.composeHash !== desired.composeHash) continue;
    if (record.held != null || record.rollback != null || options.pending(id)) continue;
    // As the reconciler's in-sync branch records it: a new revision, applied when it was.
    const next: StackRecord = {
      ...record,
      synced: {
        revision: snapshot.revision,
        composeHash: synced.composeHash,
        at: options.at,
        appliedAt: synced.appliedAt ?? synced.at,
      },
    };
    state.setStack(id, next);
    hooks?.stackRecord?.(id, next);
    advanced.add(id);
  }
  return advanced;
}
