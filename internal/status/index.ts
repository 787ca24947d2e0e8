/**
 * The status vocabulary and the StackStatus shape of the API (DESIGN.md §4, §5), in one module so
 * the contract is greppable. Reconciler, state store, server, metrics and CLI all use these.
 */

export const STACK_STATUSES = ['synced', 'out_of_sync', 'syncing', 'failed', 'missing', 'unknown'] as const;
export type StackStatusValue = (typeof STACK_STATUSES)[number];

export const OUTCOMES = ['success', 'failure', 'skipped'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface RevisionHash {
  readonly revision: string;
  readonly composeHash: string;
}

export interface SyncedInfo extends RevisionHash {
  /** RFC 3339. */
  readonly at: string;
}

export interface LastResult {
  readonly outcome: Outcome;
  /** RFC 3339. */
  readonly at: string;
  readonly message: string;
  readonly durationMs: number;
}

export interface ServiceStatus {
  readonly name: string;
  /** Docker container state of the service's (first) container, or `missing`. */
  readonly state: string;
  readonly health: string | null;
  readonly inSync: boolean;
}

export interface StackStatus {
  readonly id: string;
  readonly project: string;
  readonly status: StackStatusValue;
  readonly message: string;
  readonly desired: RevisionHash | null;
  readonly synced: SyncedInfo | null;
  readonly lastResult: LastResult | null;
  readonly services: readonly ServiceStatus[];
}

export interface HistoryEntry extends LastResult {
  readonly revision: string | null;
  readonly composeHash: string | null;
  readonly action: string;
}

/** One stack's status plus its history: `GET /api/v1/stacks/{id}`. */
export interface StackDetail extends StackStatus {
  readonly history: readonly HistoryEntry[];
}

/** `GET /api/v1/stacks` and `stackd sync --once --output json`. */
export interface StacksResponse {
  readonly revision: string | null;
  readonly fetchedAt: string | null;
  readonly reconcileEnabled: boolean;
  readonly stacks: readonly StackStatus[];
}
