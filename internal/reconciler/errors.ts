/** Reconcile failures: transient ones are retried with backoff, terminal ones wait for a change. */
import type { FailureCause } from '../status/index.js';

export interface ReconcileErrorOptions extends ErrorOptions {
  /** Why, when the thrower knows (see classify.ts); else classify() reads it from the cause. */
  readonly failure?: FailureCause;
}

/** A failure worth retrying (engine unreachable, compose up failed, a container not ready). */
export class ReconcileError extends Error {
  override readonly name: string = 'ReconcileError';
  readonly stack_id: string;
  readonly failure: FailureCause | undefined;
  constructor(stackId: string, message: string, options?: ReconcileErrorOptions) {
    super(message, options);
    this.stack_id = stackId;
    this.failure = options?.failure;
  }
}

/**
 * A failure that retrying cannot fix (invalid desired stack, compose rejects the files, project
 * owned by another instance): never retried; a new desired state or a manual sync clears it.
 * Its name is `TerminalError`, which the work queue recognises.
 */
export class TerminalReconcileError extends ReconcileError {
  override readonly name = 'TerminalError';
}
