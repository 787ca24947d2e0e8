/**
 * Crash loops after a sync: every self-heal (a drift-only apply) of a desired stack hash is
 * counted; the limit within CRASH_LOOP_WINDOW_MS turns the stack `failed` and stops self-heal at
 * that hash (one attempt per commit), so a container that keeps exiting is never a hot loop.
 */
import type { ObservedProject } from '../informer/types.js';
import { LogEvent } from '../log/index.js';
import type { StackRecord } from '../state/index.js';
import type { RevisionHash, ServiceStatus } from '../status/index.js';
import type { ReconcileContext } from './context.js';
import { TerminalReconcileError } from './errors.js';
import type { StackPlan } from './plan.js';
import type { ReconcileOutcome } from './recorder.js';

export const CRASH_LOOP_WINDOW_MS = 10 * 60_000;

export type Heals = NonNullable<StackRecord['heals']>;

/** The heals at `composeHash` still inside the window at `nowMs`, with one more at `nowMs`. */
export function countHeal(previous: StackRecord['heals'], composeHash: string, nowMs: number): Heals {
  const kept =
    previous?.composeHash === composeHash
      ? previous.at.filter((t) => nowMs - Date.parse(t) < CRASH_LOOP_WINDOW_MS)
      : [];
  return { composeHash, at: [...kept, new Date(nowMs).toISOString()] };
}

const minutes = (ms: number): string => {
  const m = Math.max(1, Math.round(ms / 60_000));
  return `${m} min`;
};

/**
 * `crash loop: web exited with code 1 3 times in 4 min`: the services the drift plan starts
 * again, with the exit code their container shows.
 */
export function crashLoopMessage(
  plan: StackPlan,
  observed: ObservedProject | undefined,
  heals: Heals,
  limit: number,
): string {
  const down = plan.services
    .filter((s) => s.change === 'start' || s.change === 'create')
    .map((s) => {
      const c = observed?.containers.find((x) => x.service === s.name && x.state !== 'running');
      if (c === undefined) return `${s.name} ${s.why}`;
      return c.exitCode === null ? `${s.name} ${c.state}` : `${s.name} exited with code ${c.exitCode}`;
    });
  const first = Date.parse(heals.at[0] ?? '');
  const last = Date.parse(heals.at[heals.at.length - 1] ?? '');
  return `crash loop: ${down.join(', ') || 'a service stopped'} ${heals.at.length} times in ${minutes(last - first)} (reconcile.crashLoopLimit=${limit}); self-heal stopped at this revision until a new commit or a manual sync`;
}

/** A crash loop: `failed`, and self-heal stops at this desired stack hash (held). */
export function crashLoop(
  ctx: ReconcileContext,
  id: string,
  project: string | undefined,
  target: RevisionHash,
  services: readonly ServiceStatus[],
  fields: Readonly<Record<string, unknown>>,
  found: { readonly message: string; readonly heals: Heals },
): ReconcileOutcome {
  const { message, heals } = found;
  return {
    kind: 'failed',
    cause: 'crash_loop',
    record: {
      project,
      patch: {
        status: 'failed',
        message,
        services,
        heals,
        held: { ...target, cause: 'crash_loop', message },
      },
    },
    result: {
      target,
      lastResult: { outcome: 'failure', at: ctx.recorder.at(), message, durationMs: 0 },
      action: 'update',
    },
    log: {
      level: 'error',
      event: LogEvent.reconcileCrashLoop,
      fields: { ...fields, reason: message, heals: heals.at.length },
    },
    error: new TerminalReconcileError(id, message, { failure: 'crash_loop' }),
  };
}
