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
  /** RFC 3339: when the stack was last found or made in sync at this revision and hash. */
  readonly at: string;
  /**
   * RFC 3339: when the running containers were last applied (an `up` that succeeded, a rollback);
   * unlike `at`, a new commit that changes nothing for the stack does not move it. Absent when not
   * known (a record rebuilt from labels, or written by 0.1).
   */
  readonly appliedAt?: string;
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
  /**
   * Restarts of the service's containers under their restart policy (the engine's restart count,
   * summed); null when not known yet (known once stackd has looked closely at the project).
   * A start by self-heal is not a restart: a crash loop says so in the stack's message.
   */
  readonly restarts?: number | null;
  /** Its `image:` as Git has it (after interpolation); absent when it has none. */
  readonly image?: string | null;
  /**
   * Watched services only (update policy `digest` or `notify`): the registry digest its container
   * runs (label `io.stackd.image-digest`, else the image's RepoDigests); null when not known.
   */
  readonly digest?: string | null;
  /**
   * Watched services only: the digest its registry serves now when that is not the one running
   * (an update waiting, reported under `notify`, or one that failed and was rolled back); else null.
   */
  readonly availableDigest?: string | null;
}

/** A watched service's new digest that failed (readiness) and is not applied again until it changes or a manual sync. */
export interface RejectedDigest {
  readonly digest: string;
  readonly message: string;
  /** RFC 3339. */
  readonly at: string;
}

/**
 * Why an apply failed (see internal/reconciler/classify.ts). The deterministic ones (classify.ts's
 * DETERMINISTIC) are not applied again at the same desired hash until a new commit or a manual sync.
 */
export const FAILURE_CAUSES = [
  /** The desired stack is invalid, or compose rejects its files. */
  'invalid',
  /** A container exited, restarted, turned unhealthy or never became ready (reconcile.minReady). */
  'not_ready',
  /** A synced stack's containers kept exiting: reconcile.crashLoopLimit self-heals in 10 minutes. */
  'crash_loop',
  /** A published port is taken by something else. */
  'port_in_use',
  /** The registry says the image or tag does not exist (Docker Hub: or that it needs a login). */
  'image_missing',
  /**
   * The registry refused the pull: no credentials for it, or wrong ones (`unauthorized`,
   * `denied`, `no basic auth credentials`). Held until the stack changes, a manual sync, or a
   * start of stackd with different registry logins (registry.authFile).
   */
  'pull_denied',
  /**
   * The work tree was changed outside stackd: not retried with backoff, not held either (the
   * operator fixes the host, not the commit): the next resync or manual sync looks again.
   */
  'refused',
  /** The Docker engine did not answer. */
  'engine_unreachable',
  /** compose was killed by reconcile.timeout. */
  'timed_out',
  /**
   * `compose build` of a changed service failed (a Dockerfile step, a file missing from the
   * context): deterministic, held until the stack changes or a manual sync.
   */
  'build_failed',
  /** The registry could not be reached (DNS, TCP, TLS, timeouts). */
  'registry_unreachable',
  /** compose failed for a reason not recognised above. */
  'compose_failed',
] as const;
export type FailureCause = (typeof FAILURE_CAUSES)[number];

/** A deterministic failure at one desired stack hash: not applied again automatically. */
export interface HeldFailure {
  readonly revision: string;
  readonly composeHash: string;
  readonly cause: FailureCause;
  readonly message: string;
}

/**
 * A suspended stack: nothing is applied to it, self-heal is off, it reads `out_of_sync` (with the
 * reason) while Git and the host differ. `by`: its compose file's `x-stackd.suspend` (`repo`) or
 * `PUT /api/v1/stacks/{id}/suspend` / `stackd suspend` (`api`, kept across restarts).
 */
export interface Suspension {
  readonly reason: string;
  readonly by: 'repo' | 'api';
  /** RFC 3339: since when. */
  readonly at: string;
}

/** The last automatic rollback (`reconcile.rollback`): from the failed revision back to the synced one. */
export interface RollbackInfo {
  readonly from: string;
  readonly to: string;
  /** RFC 3339. */
  readonly at: string;
  readonly reason: string;
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
  /** Set after an automatic rollback, until the stack next applies successfully; else null. */
  readonly rollback: RollbackInfo | null;
  /** Set while the stack is suspended (in the repository or through the API); else null. */
  readonly suspended: Suspension | null;
}

/** One service's change in an apply, and why (internal/reconciler/why.ts's words). */
export interface ServiceChangeWhy {
  readonly service: string;
  /** create, recreate, start or remove. */
  readonly change: string;
  /** `new`, `gone`, `image a → b`, `definition`, `file conf/app.conf`, `digest … → …`, `drift (exited 1)`. */
  readonly why: string;
}

export interface HistoryEntry extends LastResult {
  readonly revision: string | null;
  readonly composeHash: string | null;
  readonly action: string;
  /** What the apply changed, by service (absent in entries written before 0.x, and for removals). */
  readonly changes?: readonly ServiceChangeWhy[];
}

/** One stack's status plus its history: `GET /api/v1/stacks/{id}`. */
export interface StackDetail extends StackStatus {
  readonly history: readonly HistoryEntry[];
}

/**
 * The desired state's source as the last fetches found it (`GET /api/v1/stacks` `source`): a
 * failing fetch is shown here, beside the stacks still reported from the last good state.
 */
export interface SourceStatus {
  /** `source.url` without credentials. */
  readonly url: string;
  readonly branch: string;
  /** RFC 3339: the last fetch that succeeded (changed or not); null before the first. */
  readonly lastSuccessAt: string | null;
  /** The last fetch's error; null when it succeeded (or none ran yet). */
  readonly lastError: string | null;
  /** RFC 3339: when the last failed fetch ended (kept after a success); null if none failed. */
  readonly lastErrorAt: string | null;
  /** RFC 3339: the first failure of the current run of failures; null when the last fetch succeeded. */
  readonly failingSince: string | null;
}

/** `GET /api/v1/stacks` and `stackd sync --once --output json`. */
export interface StacksResponse {
  readonly revision: string | null;
  readonly fetchedAt: string | null;
  readonly reconcileEnabled: boolean;
  readonly source: SourceStatus;
  readonly stacks: readonly StackStatus[];
}

/** One reconciliation run (`GET /api/v1/runs`): what triggered it and each stack's outcome. */
export interface RunRecord {
  readonly id: number;
  readonly trigger: string;
  readonly revision: string | null;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly stacks: readonly {
    readonly id: string;
    readonly outcome: string;
    readonly message: string;
    /** What the stack's apply changed, by service (absent: nothing applied, or not known). */
    readonly changes?: readonly ServiceChangeWhy[];
  }[];
}
