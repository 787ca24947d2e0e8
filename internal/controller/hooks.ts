/** What the controller reports as it works; the metrics module adapts these to prom-client. */
import type { WorkQueueMetrics } from '../../pkg/workqueue/index.js';
import type { StackRecord } from '../state/index.js';

export interface ControllerHooks {
  /** A fetch finished. */
  readonly fetch?: (result: 'success' | 'failure', seconds: number) => void;
  /** A snapshot at `revision` is now the desired state. */
  readonly revision?: (revision: string) => void;
  /** A stack's record changed (status, synced, lastResult). */
  readonly stackRecord?: (id: string, record: StackRecord) => void;
  /** A stack left the set of reported stacks (out of scope, forgotten). */
  readonly stackGone?: (id: string) => void;
  /** An apply or removal finished. */
  readonly reconcile?: (id: string, result: 'success' | 'failure', seconds: number) => void;
  /** An automatic rollback finished. */
  readonly rollback?: (id: string, result: 'success' | 'failure') => void;
  /** An apply's build of its changed `build:` services finished. */
  readonly build?: (id: string, result: 'success' | 'failure', seconds: number) => void;
  /** A registry digest check of a watched tag finished (image updates). */
  readonly imageCheck?: (result: 'success' | 'failure') => void;
  /** The work queue's own hooks. */
  readonly queue?: WorkQueueMetrics;
}
