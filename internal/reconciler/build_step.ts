/** The build step of an apply: `compose build` of the services that need it (builds.ts). */
import { elapsedMs } from '../../pkg/clock/index.js';
import { isComposeError } from '../compose/index.js';
import type { ComposeRunOptions, ComposeTarget } from '../compose/types.js';
import { LogEvent, type Redactor } from '../log/index.js';
import type { DesiredStack } from '../source/types.js';
import { classify } from './classify.js';
import { type ReconcileContext, describe } from './context.js';
import { ReconcileError } from './errors.js';

/**
 * `compose build SERVICES`, logged (`reconcile.build`) and counted. A build compose ran and that
 * failed is `build_failed` (deterministic: held until the stack changes or a manual sync), unless
 * its output says the registry or the engine could not be reached, or that a base image does not
 * exist (classify.ts); a build cut short by the deadline is `timed_out` (retried).
 */
export async function buildServices(
  ctx: ReconcileContext,
  stack: DesiredStack,
  target: ComposeTarget,
  services: readonly string[],
  options: ComposeRunOptions,
  redactor: Redactor,
): Promise<void> {
  const { clock, recorder } = ctx;
  const started = clock.now();
  const fields = { project: stack.project, services };
  try {
    const result = await ctx.compose.build(target, services, options);
    const durationMs = elapsedMs(clock, started);
    recorder.built(stack.id, 'success', durationMs);
    recorder.log('info', LogEvent.reconcileBuild, stack.id, {
      ...fields,
      durationMs,
      result: 'success',
      builder: result.builder,
    });
  } catch (error) {
    const durationMs = elapsedMs(clock, started);
    recorder.built(stack.id, 'failure', durationMs);
    recorder.log('warn', LogEvent.reconcileBuild, stack.id, {
      ...fields,
      durationMs,
      result: 'failure',
      reason: redactor.text(describe(error)),
    });
    if (!isComposeError(error) || error.kind !== 'exited') throw error;
    const cause = classify(error);
    const tail = error.outputTail === '' ? '' : `; last build output: ${error.outputTail}`;
    throw new ReconcileError(stack.id, `building ${services.join(', ')} failed: ${error.message}${tail}`, {
      cause: error,
      failure: cause === 'compose_failed' ? 'build_failed' : cause,
    });
  }
}
