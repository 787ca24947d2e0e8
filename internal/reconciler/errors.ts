/** Reconcile failures: transient ones are retried with backoff, terminal ones wait for a change. */

/** A failure worth retrying (engine unreachable, compose up failed, a container not ready). */
export class ReconcileError extends Error {
  override readonly name: string = 'ReconcileError';
  readonly stack_id: string;
  constructor(stackId: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.stack_id = stackId;
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
