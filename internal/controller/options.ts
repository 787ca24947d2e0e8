/** What the controller is built from: its parts, the configuration it needs, and test seams. */
import type { ImageWatcher } from '../images/watcher.js';
import type { Clock } from '../../pkg/clock/index.js';
import type { Informer } from '../informer/types.js';
import type { Logger } from '../log/index.js';
import type { EngineHealth, Reconciler } from '../reconciler/index.js';
import type { Snapshot, Source } from '../source/types.js';
import type { StateStore } from '../state/index.js';
import type { ControllerHooks } from './hooks.js';

export interface ControllerOptions {
  readonly source: Source & { loadCached?: () => Promise<Snapshot | undefined> };
  readonly informer: Informer;
  readonly reconciler: Reconciler;
  readonly state: StateStore;
  readonly logger: Logger;
  readonly instance: string;
  readonly inScope: (id: string) => boolean;
  /** `reconcile.enabled` from the configuration; a value set through the API (persisted) wins. */
  readonly reconcileEnabled: boolean;
  /** Milliseconds; 0 = no polling. */
  readonly pollIntervalMs: number;
  /** Milliseconds; 0 = no periodic resync. */
  readonly resyncIntervalMs: number;
  readonly hooks?: ControllerHooks;
  /** Per-key retry backoff. @default STACK_RETRY (2 s doubling to 5 min) */
  readonly backoff?: { readonly baseMs: number; readonly maxMs: number };
  /** Draws the poll jitter. @default Math.random */
  readonly random?: () => number;
  /** The least time from a refresh's start to one queued behind it. @default REFRESH_MIN_GAP_MS */
  readonly refreshMinGapMs?: number;
  /** Whether the engine starts containers (set by the reconciler's start watch). @default always */
  readonly engine?: Pick<EngineHealth, 'stalled'>;
  /** The image digest watcher (image updates): fed each snapshot, started and stopped with the controller. */
  readonly images?: Pick<ImageWatcher, 'watch' | 'start' | 'stop' | 'pushed'>;
  /** `source.url`, shown (without credentials) in the API's `source`. @default '' */
  readonly sourceUrl?: string;
  /** `source.branch`, shown in the API's `source`. @default '' */
  readonly sourceBranch?: string;
  /** Every timer and timestamp of the controller (and its work queue). @default realClock */
  readonly clock?: Clock;
}
