/** What the API and CLI show for a stack: its record joined with the desired state. */
import type { Snapshot } from '../source/types.js';
import type { StackRecord } from '../state/index.js';
import type { SourceStatus, StackStatus, StacksResponse } from '../status/index.js';

export function stackStatus(
  id: string,
  record: StackRecord | undefined,
  snapshot: Snapshot | undefined,
): StackStatus {
  const desired = snapshot?.stacks.get(id);
  return {
    id,
    project: desired?.project ?? record?.project ?? '',
    status: record?.status ?? 'unknown',
    message: record?.message ?? desired?.error ?? '',
    desired:
      snapshot !== undefined && desired?.composeHash != null
        ? { revision: snapshot.revision, composeHash: desired.composeHash }
        : null,
    synced: record?.synced ?? null,
    lastResult: record?.lastResult ?? null,
    services: record?.services ?? [],
    rollback: record?.rollback ?? null,
    // Before its first reconcile, a stack suspended in Git already says so.
    suspended:
      record?.suspended ??
      (desired?.intent?.suspend == null || snapshot === undefined
        ? null
        : { ...desired.intent.suspend, by: 'repo', at: snapshot.fetchedAt.toISOString() }),
  };
}

export function stacksResponse(
  ids: readonly string[],
  records: Readonly<Record<string, StackRecord>>,
  snapshot: Snapshot | undefined,
  reconcileEnabled: boolean,
  source: SourceStatus,
): StacksResponse {
  return {
    revision: snapshot?.revision ?? null,
    fetchedAt: snapshot?.fetchedAt.toISOString() ?? null,
    reconcileEnabled,
    source,
    stacks: ids.map((id) => stackStatus(id, records[id], snapshot)),
  };
}
