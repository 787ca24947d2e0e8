/** The reconciler's face: its options, its request, its settings and hooks. */
import type { Clock } from '../../pkg/clock/index.js';
import type { ComposeRunner } from '../compose/types.js';
import type { ImageFacts } from '../images/view.js';
import type { Informer } from '../informer/types.js';
import type { Logger } from '../log/index.js';
import type { Source } from '../source/types.js';
import type { StateStore, StackRecord } from '../state/index.js';
import type { RevisionHash } from '../status/index.js';
import type { EngineHealth } from './engine_watch.js';

export interface ReconcileSettings {
  readonly enabled: boolean;
  readonly prune: boolean;
  readonly allowEmpty: boolean;
  readonly selfHeal: boolean;
  /** Milliseconds an apply may take, waiting for containers included. */
  readonly timeoutMs: number;
  /** How long new containers must run without restarting (`reconcile.minReady`); 0 = two looks. */
  readonly minReadyMs: number;
  /** Self-heals of one desired stack hash within CRASH_LOOP_WINDOW_MS that make a crash loop. */
  readonly crashLoopLimit: number;
  /** Re-apply the last synced revision after a deterministic failure of an update. */
  readonly rollback: boolean;
}

export interface ReconcileRequest {
  readonly stack: string;
  /** A manual sync: apply even if the stack looks in sync, and clear a terminal failure. */
  readonly force?: boolean;
  /**
   * With `force`: this once, remove the stack (or the projects a rename left behind) even with
   * `reconcile.prune` off (`stackd sync ID --prune`). The other removal guards still hold.
   */
  readonly prune?: boolean;
}

export interface ReconcileHooks {
  /** Called with every recorded status change. */
  readonly onRecord?: (id: string, record: StackRecord) => void;
  /**
   * Called when an attempt at the desired stack starts, with its revision and hash: an apply (not
   * a rollback's), or the stack found invalid at a new commit (its failure is recorded at once).
   * `driftOnly`: the apply only repairs drift (a self-heal), the definitions are as synced.
   */
  readonly onApplyStart?: (id: string, target: RevisionHash, driftOnly: boolean) => void;
  /** Called when an apply or removal finishes. */
  readonly onResult?: (id: string, outcome: 'success' | 'failure', durationMs: number) => void;
  /** Called when an automatic rollback finishes (`success`: the stack runs its synced revision again). */
  readonly onRollback?: (id: string, outcome: 'success' | 'failure') => void;
  /** Called when an apply's `compose build` of the changed services with `build:` finishes. */
  readonly onBuild?: (id: string, outcome: 'success' | 'failure', durationMs: number) => void;
}

export interface ReconcilerOptions {
  readonly source: Pick<Source, 'current' | 'materialize' | 'trackedFiles' | 'stackAt'>;
  readonly informer: Pick<Informer, 'current' | 'observeProject' | 'logTail'>;
  readonly compose: ComposeRunner;
  readonly state: StateStore;
  readonly logger: Logger;
  readonly dataDir: string;
  readonly instance: string;
  /** Read at the start of every reconcile, so a pause through the API applies at once. */
  readonly settings: () => ReconcileSettings;
  readonly hooks?: ReconcileHooks;
  /** Durations, deadlines, readiness polling and record timestamps. @default realClock */
  readonly clock?: Clock;
  /** Marked when `compose up` creates containers the engine does not start (see engine_watch.ts). */
  readonly engine?: EngineHealth;
  /** Image updates of watched services (internal/images); absent: none. */
  readonly images?: ImageFacts;
}

export interface Reconciler {
  /**
   * Reconcile one stack against the latest snapshot and observation. Throws a ReconcileError to
   * be retried with backoff, or a TerminalReconcileError (name `TerminalError`) that is not.
   */
  reconcile(request: ReconcileRequest, signal?: AbortSignal): Promise<void>;
}
