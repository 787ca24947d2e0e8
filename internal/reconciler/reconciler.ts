/**
 * reconcile(stack): read the latest snapshot and observation, decide, act, record. This class only
 * wires the pieces: `dispatch` decides and runs the branch (apply, removal, or a record-only
 * branch), and the `Recorder` writes the branch's outcome once.
 */
import { type Clock, realClock } from '../../pkg/clock/index.js';
import { layoutOf } from '../layout/index.js';
import type { ReconcileContext } from './context.js';
import { dispatch } from './dispatch.js';
import type { Reconciler, ReconcileRequest, ReconcilerOptions } from './options.js';
import { type ReconcileOutcome, Recorder } from './recorder.js';

export function createReconciler(options: ReconcilerOptions): Reconciler {
  return new StackReconciler(options);
}

export class StackReconciler implements Reconciler {
  readonly #settings: ReconcilerOptions['settings'];
  readonly #ctx: ReconcileContext;

  constructor(options: ReconcilerOptions) {
    const clock: Clock = options.clock ?? realClock;
    this.#settings = options.settings;
    this.#ctx = {
      source: options.source,
      informer: options.informer,
      compose: options.compose,
      instance: options.instance,
      layout: layoutOf(options.dataDir),
      clock,
      recorder: new Recorder({
        state: options.state,
        logger: options.logger,
        instance: options.instance,
        clock,
        ...(options.hooks ? { hooks: options.hooks } : {}),
      }),
      ...(options.engine ? { engine: options.engine } : {}),
      ...(options.images ? { images: options.images } : {}),
    };
  }

  async reconcile(request: ReconcileRequest, signal?: AbortSignal): Promise<void> {
    await this.run(request, signal);
  }

  /** `reconcile`, answering with the outcome it recorded (for tests); throws its error once recorded. */
  async run(request: ReconcileRequest, signal?: AbortSignal): Promise<ReconcileOutcome> {
    const outcome = await dispatch(this.#ctx, this.#settings, request, signal);
    this.#ctx.recorder.commit(request.stack, outcome);
    if (outcome.error !== undefined) throw outcome.error;
    return outcome;
  }
}
