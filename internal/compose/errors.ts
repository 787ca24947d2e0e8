/** Errors of the compose runner: one class per concern, the original failure as `cause`. */

export interface ComposeErrorDetails {
  /** The full argv, joined with spaces: `docker compose -p web ... up -d --remove-orphans`. */
  readonly command: string;
  /** Exit code, or null when the process was killed or never ran. */
  readonly exitCode: number | null;
  /** The last lines of stderr (at most 20 lines / 4 KB), ANSI codes removed. */
  readonly stderrTail: string;
  /**
   * A build: the last lines of its output (stdout and stderr, boilerplate left out), joined with
   * ` | `, for the status message.
   */
  readonly outputTail?: string;
  /** Killed because `timeoutMs` passed. */
  readonly timedOut: boolean;
  /** Killed because the caller's signal was aborted. */
  readonly aborted: boolean;
}

/**
 * How a compose command failed: `exited` non-zero (compose said no: see `stderrTail`), was killed
 * because it `timed_out`, or because the caller `aborted` it.
 */
export type ComposeErrorKind = 'exited' | 'timed_out' | 'aborted';

/** A compose command ran and failed (non-zero exit, timeout or abort). */
export class ComposeError extends Error implements ComposeErrorDetails {
  override readonly name = 'ComposeError';
  readonly command: string;
  readonly exitCode: number | null;
  readonly stderrTail: string;
  readonly outputTail: string;
  readonly timedOut: boolean;
  readonly aborted: boolean;

  constructor(message: string, details: ComposeErrorDetails, options?: { cause?: unknown }) {
    super(message, options);
    this.command = details.command;
    this.exitCode = details.exitCode;
    this.stderrTail = details.stderrTail;
    this.outputTail = details.outputTail ?? '';
    this.timedOut = details.timedOut;
    this.aborted = details.aborted;
  }

  /** Derived from `timedOut` and `aborted` (a getter: the error's own fields stay as they were). */
  get kind(): ComposeErrorKind {
    return this.timedOut ? 'timed_out' : this.aborted ? 'aborted' : 'exited';
  }
}

/** True for a ComposeError: a compose command ran and failed. Classify it by its `kind`. */
export function isComposeError(error: unknown): error is ComposeError {
  return error instanceof ComposeError;
}

/** Neither the configured compose command nor (for `auto`) any fallback can be run. */
export class ComposeUnavailableError extends Error {
  override readonly name = 'ComposeUnavailableError';
  /** The command that was tried (for `auto`: every candidate, joined with ` | `). */
  readonly command: string;

  constructor(message: string, command: string, options?: { cause?: unknown }) {
    super(message, options);
    this.command = command;
  }
}
