/**
 * The controller's side of per-stack intent: a suspension set through the API (written to the
 * stack's record, where it outlives restarts), and `dependsOn` — when a stack settles, the stacks
 * that wait for it are reconciled again.
 */
import type { Snapshot } from '../source/types.js';
import type { StackRecord, StateStore } from '../state/index.js';

/** A record for a stack that has none yet (known from Git, never reconciled). */
const EMPTY: Omit<StackRecord, 'project'> = {
  status: 'unknown',
  message: '',
  synced: null,
  lastResult: null,
  services: [],
  history: [],
};

/**
 * Sets (a reason) or clears (null) a stack's API suspension and answers the record written. A
 * suspension in the compose file is not cleared here: the next reconcile records it again.
 */
export function setApiSuspension(
  state: StateStore,
  id: string,
  project: string,
  reason: string | null,
  at: string,
): StackRecord {
  const previous = state.stack(id) ?? { ...EMPTY, project };
  const record: StackRecord = {
    ...previous,
    suspended: reason === null ? null : { reason, by: 'api', at },
  };
  state.setStack(id, record);
  return record;
}

/**
 * The stacks to reconcile again after `id` settled as `after`: those whose `x-stackd.dependsOn`
 * names it and that are not synced at the snapshot's revision (those that are need nothing).
 */
export function dependentsOf(
  snapshot: Snapshot | undefined,
  id: string,
  before: StackRecord | undefined,
  after: StackRecord | undefined,
  state: StateStore,
): string[] {
  if (snapshot === undefined || after === undefined) return [];
  if (before?.status === after.status && before.synced?.revision === after.synced?.revision) return [];
  const out: string[] = [];
  for (const stack of snapshot.stacks.values()) {
    if (!(stack.intent?.dependsOn ?? []).includes(id)) continue;
    const own = state.stack(stack.id);
    if (own?.status === 'synced' && own.synced?.revision === snapshot.revision) continue;
    out.push(stack.id);
  }
  return out;
}
