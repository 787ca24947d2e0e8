/**
 * Pausing reconciliation (`PUT /api/v1/reconcile`, FR-008): `reconcile.enabled` from the
 * configuration, overridden by a value set through the API and persisted in the state store.
 * Refreshes go on while paused; the reconciler itself skips applying.
 */
import { LogEvent, type Logger } from '../log/index.js';
import type { StateStore } from '../state/index.js';

export class Pause {
  readonly #state: StateStore;
  readonly #configured: boolean;
  readonly #logger: Logger;

  constructor(state: StateStore, configured: boolean, logger: Logger) {
    this.#state = state;
    this.#configured = configured;
    this.#logger = logger;
  }

  /** Whether stacks are reconciled: the persisted API value if any, else the configured one. */
  get enabled(): boolean {
    return this.#state.data.reconcileEnabled ?? this.#configured;
  }

  /** Persists `enabled` and logs the change. */
  set(enabled: boolean): void {
    this.#state.setReconcileEnabled(enabled);
    this.#logger.info(`reconciliation ${enabled ? 'resumed' : 'paused'} through the API`, {
      event: enabled ? LogEvent.reconcileResumed : LogEvent.reconcilePaused,
    });
  }
}
