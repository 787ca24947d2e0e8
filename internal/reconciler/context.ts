/** What every branch of a reconcile works with: the collaborators, the layout, the clock, the recorder. */
import type { Clock } from '../../pkg/clock/index.js';
import type { ComposeRunner } from '../compose/types.js';
import type { ImageFacts } from '../images/view.js';
import type { Layout } from '../layout/index.js';
import type { EngineHealth } from './engine_watch.js';
import type { ReconcilerOptions } from './options.js';
import type { Recorder } from './recorder.js';

export interface ReconcileContext {
  readonly source: ReconcilerOptions['source'];
  readonly informer: ReconcilerOptions['informer'];
  readonly compose: ComposeRunner;
  readonly instance: string;
  readonly layout: Layout;
  readonly clock: Clock;
  readonly recorder: Recorder;
  readonly engine?: EngineHealth;
  /** Image updates (the digest watcher); absent: no service is watched. */
  readonly images?: ImageFacts;
}

/** The message of a failure, for records and log lines. */
export function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
