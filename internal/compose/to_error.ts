/** A failed compose process as the error callers handle: ComposeUnavailableError or ComposeError. */
import { ComposeError, ComposeUnavailableError } from './errors.js';
import type { ProcessResult } from './process.js';
import { buildFailureReason, buildOutputTail, failureReason, stderrTail } from './stderr.js';
import { INSTALL_V2, v2OnlyHint } from './v2_only.js';

/** The docker CLI's answer when the compose plugin is not installed. */
const NOT_A_DOCKER_COMMAND = /is not a docker command/;

/** Classify a failed process: command missing → ComposeUnavailableError, else ComposeError. */
export function toError(
  shown: string,
  full: readonly string[],
  verb: string,
  result: Extract<ProcessResult, { ok: false }>,
  timeoutMs: number | undefined,
  build = false,
): ComposeError | ComposeUnavailableError {
  const { error } = result;
  const stderr = typeof error.stderr === 'string' ? error.stderr : '';
  // A build prints its steps on stdout, and why it failed on either.
  const output = build && typeof error.all === 'string' ? error.all : stderr;
  if (error.code === 'ENOENT' || error.code === 'EACCES') {
    return new ComposeUnavailableError(
      `compose command \`${shown}\` cannot be run: ${error.code === 'ENOENT' ? 'not found' : 'permission denied'}; ${INSTALL_V2}`,
      shown,
      { cause: error },
    );
  }
  if (NOT_A_DOCKER_COMMAND.test(stderr)) {
    return new ComposeUnavailableError(
      `compose command \`${shown}\` is not available: ${failureReason(stderr)}; ${INSTALL_V2}`,
      shown,
      {
        cause: error,
      },
    );
  }
  const reason = build ? buildFailureReason(stderr, output) : failureReason(stderr);
  const hint = v2OnlyHint(stderr);
  const exitCode = typeof error.exitCode === 'number' ? error.exitCode : null;
  let message: string;
  if (result.timedOut) message = `${shown} ${verb} timed out after ${timeoutMs ?? 0} ms`;
  else if (result.aborted) message = `${shown} ${verb} was aborted`;
  else if (exitCode === null) message = `${shown} ${verb} was killed by ${error.signal ?? 'a signal'}`;
  else message = `${shown} ${verb} failed (exit ${exitCode})`;
  if (!result.timedOut && !result.aborted) {
    if (hint !== undefined) message += `: ${hint} (compose said: ${reason})`;
    else if (reason !== '') message += `: ${reason}`;
  }
  return new ComposeError(
    message,
    {
      command: full.join(' '),
      exitCode,
      stderrTail: stderrTail(output),
      ...(build ? { outputTail: buildOutputTail(output, reason) } : {}),
      timedOut: result.timedOut,
      aborted: result.aborted,
    },
    { cause: error },
  );
}
