/**
 * Waiting, after `compose up`, until every desired service is ready or has failed. Ready means
 * running for `minReadyMs` without a restart (healthy at once where the service has a
 * healthcheck: a passing check is the stronger signal), or, for a one-shot service, exited 0.
 * A restart, `restarting`, `unhealthy`, or an exit of a service that is not one-shot fails.
 */
import { sleep, type Clock } from '../../pkg/clock/index.js';
import type { ObservedContainer, ObservedProject } from '../informer/types.js';
import type { DesiredStack } from '../source/types.js';

export type Readiness =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly message: string;
      /** The container whose state failed the wait, for its log tail. */
      readonly container?: string;
      /** The deadline came first: nothing failed, something was not ready yet. */
      readonly timedOut?: boolean;
    };

type Verdict = 'ready' | { readonly pending: string } | { readonly failed: string };
/** `missing`: services without any container, which `compose up -d` would have created. */
type Look =
  | 'ready'
  | { readonly pending: string; readonly missing: readonly string[] }
  | { readonly failed: string; readonly container: string };

const seconds = (ms: number): string => `${Math.round(ms / 100) / 10}s`;

/**
 * Tracks what the looks of one wait saw: a container's first restart count, and when it was
 * first seen running (for an engine that does not say when it started it).
 */
class Looks {
  readonly #restarts = new Map<string, number>();
  readonly #firstRunning = new Map<string, number>();

  constructor(
    readonly nowMs: () => number,
    readonly minReadyMs: number,
  ) {}

  /** Restarts since the first look that saw the container (0 when unknown). */
  restartsSinceFirst(c: ObservedContainer): number {
    if (c.restartCount === undefined) return 0;
    const first = this.#restarts.get(c.id);
    if (first === undefined) {
      this.#restarts.set(c.id, c.restartCount);
      return 0;
    }
    return c.restartCount - first;
  }

  /** How long the running container has run without a restart, as far as the looks can tell. */
  runningForMs(c: ObservedContainer): number {
    const now = this.nowMs();
    if (!this.#firstRunning.has(c.id)) this.#firstRunning.set(c.id, now);
    const since = this.#firstRunning.get(c.id) ?? now;
    // StartedAt changes with every restart; a clock skewed against the engine falls back to the looks.
    if (c.startedAt !== undefined && c.startedAt <= now) return now - c.startedAt;
    return now - since;
  }
}

function judge(name: string, c: ObservedContainer, oneShot: boolean, looks: Looks | undefined): Verdict {
  const restarted = looks?.restartsSinceFirst(c) ?? 0;
  if (restarted > 0) {
    return {
      failed: `service ${name} restarted ${restarted} time${restarted === 1 ? '' : 's'} while stackd waited for it to stay up (restart count ${c.restartCount ?? '?'})`,
    };
  }
  switch (c.state) {
    case 'running': {
      if (c.health === 'unhealthy') return { failed: `service ${name} is unhealthy` };
      if (c.health === 'starting') return { pending: `${name} (health: starting)` };
      if (c.health === 'healthy' || looks === undefined || looks.minReadyMs === 0) return 'ready';
      const ranMs = looks.runningForMs(c);
      return ranMs >= looks.minReadyMs
        ? 'ready'
        : {
            pending: `${name} (running ${seconds(ranMs)} of reconcile.minReady ${seconds(looks.minReadyMs)})`,
          };
    }
    case 'exited':
    case 'dead':
      if (oneShot && c.exitCode === 0) return 'ready';
      return {
        failed: `service ${name} exited with code ${c.exitCode ?? 'unknown'}${
          oneShot ? '' : ' (a service that may exit must say restart: "no")'
        }`,
      };
    case 'restarting':
      return { failed: `service ${name} keeps restarting (last exit code ${c.exitCode ?? 'unknown'})` };
    default:
      return { pending: `${name} (${c.state})` };
  }
}

/** One look: ready, pending (with what is awaited), or failed (with why and which container). */
export function assess(stack: DesiredStack, observed: ObservedProject | undefined, looks?: Looks): Look {
  const waiting: string[] = [];
  const missing: string[] = [];
  for (const [name, service] of stack.services) {
    const containers = observed?.containers.filter((c) => c.service === name) ?? [];
    if (containers.length === 0) {
      waiting.push(`${name} (no container)`);
      missing.push(name);
      continue;
    }
    for (const c of containers) {
      const verdict = judge(name, c, service.oneShot, looks);
      if (verdict === 'ready') continue;
      if ('failed' in verdict) return { failed: verdict.failed, container: c.id };
      waiting.push(verdict.pending);
    }
    if (service.replicas !== null && containers.length < service.replicas) {
      waiting.push(`${name} (${containers.length} of ${service.replicas} containers)`);
    }
  }
  return waiting.length === 0 ? 'ready' : { pending: waiting.join(', '), missing };
}

export interface WaitOptions {
  readonly observe: () => Promise<ObservedProject | undefined>;
  readonly deadline: number;
  readonly clock: Clock;
  /**
   * How long every container must run without restarting (`reconcile.minReady`). 0: two
   * consecutive ready looks are enough (a container that dies right after them passes).
   */
  readonly minReadyMs: number;
  readonly intervalMs?: number;
}

/** Looks in a row a service must lack a container before the wait gives up on it. */
const MISSING_LOOKS = 2;

export async function waitReady(stack: DesiredStack, options: WaitOptions): Promise<Readiness> {
  const { clock, minReadyMs } = options;
  const interval = options.intervalMs ?? 300;
  const looks = new Looks(() => clock.date().getTime(), minReadyMs);
  const settle = minReadyMs === 0 ? 2 : 1;
  let readyLooks = 0;
  let missingLooks = 0;
  let last = 'no container observed';
  for (;;) {
    const verdict = assess(stack, await options.observe(), looks);
    if (verdict === 'ready') {
      readyLooks++;
      if (readyLooks >= settle) return { ok: true };
    } else if ('failed' in verdict) {
      return { ok: false, message: verdict.failed, container: verdict.container };
    } else {
      readyLooks = 0;
      last = verdict.pending;
      // `compose up -d` returns once every container exists: a service still without one on
      // two looks will not get one (compose scaled it to 0), so fail now, not at the timeout.
      missingLooks = verdict.missing.length > 0 ? missingLooks + 1 : 0;
      if (missingLooks >= MISSING_LOOKS) {
        return {
          ok: false,
          message: `compose created no container for ${verdict.missing.join(', ')} (an interpolated deploy.replicas or scale that is 0? write the count as a number)`,
        };
      }
    }
    if (clock.now() + interval > options.deadline) {
      return { ok: false, message: `timed out waiting for ${last}`, timedOut: true };
    }
    await sleep(clock, interval);
  }
}
