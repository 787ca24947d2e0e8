/** The durable state file's shape (schema version 1). */
import type { ServiceParts } from '../../pkg/composehash/index.js';
import type {
  HeldFailure,
  HistoryEntry,
  RejectedDigest,
  RollbackInfo,
  LastResult,
  RunRecord,
  ServiceStatus,
  Suspension,
  StackStatusValue,
  SyncedInfo,
} from '../status/index.js';

export const STATE_VERSION = 1;
/** History entries kept per stack. */
export const HISTORY_LIMIT = 20;
/** Finished reconciliation runs kept (each lists its stacks, so the file stays small). */
export const RUNS_LIMIT = 20;

export interface StackRecord {
  readonly project: string;
  readonly status: StackStatusValue;
  readonly message: string;
  readonly synced: SyncedInfo | null;
  readonly lastResult: LastResult | null;
  readonly services: readonly ServiceStatus[];
  readonly history: readonly HistoryEntry[];
  /**
   * With status `missing`: the desired revision at which the stack was found neither desired nor
   * running (or was removed). The record is dropped, and the stack forgotten, by the first
   * reconcile at another revision that still finds it gone. Absent in older files: forgotten then.
   */
  readonly missingAt?: string;
  /**
   * A deterministic failure at a desired stack hash (one attempt per commit): while the desired
   * hash is this one, nothing is applied automatically. Cleared by a successful apply.
   */
  readonly held?: HeldFailure | null;
  /** Self-heals (drift repairs) at `composeHash`, RFC 3339, oldest first, within the crash-loop window. */
  readonly heals?: { readonly composeHash: string; readonly at: readonly string[] } | null;
  /** The last automatic rollback, until the stack next applies successfully. */
  readonly rollback?: RollbackInfo | null;
  /** By service: image digests that failed and are not applied again (image updates). */
  readonly rejectedDigests?: Readonly<Record<string, RejectedDigest>> | null;
  /**
   * By service: the hash and its parts of what was last applied (or found in sync), so that the
   * next change can be named (`image`, `definition`, `file <path>`: internal/reconciler/why.ts).
   */
  readonly applied?: Readonly<Record<string, AppliedService>> | null;
  /** While suspended: by whom, why, since when (see Suspension); an `api` one outlives restarts. */
  readonly suspended?: Suspension | null;
  /**
   * The stack's own `x-stackd.prune` when it was last in the desired state: whether to remove it
   * once it is deleted from Git, over `reconcile.prune`. Absent or null: the global setting.
   */
  readonly prune?: boolean | null;
}

/** A service as last applied: its service hash, and what the hash was made of. */
export interface AppliedService {
  readonly hash: string;
  readonly parts: ServiceParts;
}

/** A run as `GET /api/v1/runs` shows it (declared with the API's other shapes). */
export type { RunRecord } from '../status/index.js';

export interface StateData {
  readonly version: typeof STATE_VERSION;
  /** Set through `PUT /api/v1/reconcile`; null = follow `reconcile.enabled`. */
  readonly reconcileEnabled: boolean | null;
  readonly stacks: Readonly<Record<string, StackRecord>>;
  readonly runs: readonly RunRecord[];
}

export function emptyState(): StateData {
  return {
    version: STATE_VERSION,
    reconcileEnabled: null,
    stacks: Object.create(null) as Record<string, StackRecord>,
    runs: [],
  };
}
