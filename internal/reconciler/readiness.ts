/** Waiting, after `compose up`, until every desired service is running (and healthy) or has failed. */
import { sleep, type Clock } from '../../pkg/clock/index.js';
import type { ObservedContainer, ObservedProject } from '../informer/types.js';
import type { DesiredStack } from '../source/types.js';

export type Readiness = { readonly ok: true } | { readonly ok: false; readonly message: string };

type Verdict = 'ready' | 'pending' | { readonly failed: string };
/** `missing`: services without any container, which `compose up -d` would have created. */
type Look =
  'ready' | { readonly pending: string; readonly missing: readonly string[] } | { readonly failed: string };

function judge(name: string, c: ObservedContainer, oneShot: boolean): Verdict {
  switch (c.state) {
    case 'running':
      if (c.health === 'unhealthy') return { failed: `service ${name} is unhealthy` };
      return c.health === 'starting' ? 'pending' : 'ready';
    case 'exited':
    case 'dead':
      if (oneShot && c.exitCode === 0) return 'ready';
      return { failed: `service ${name} exited with code ${c.exitCode ?? 'unknown'}` };
    case 'restarting':
      return { failed: `service ${name} keeps restarting (last exit code ${c.exitCode ?? 'unknown'})` };
    default:
      return 'pending';
  }
}

/** One look: ready, pending (with what is awaited), or failed (with why). */
export function assess(stack: DesiredStack, observed: ObservedProject | undefined): Look {
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
      const verdict = judge(name, c, service.oneShot);
      if (typeof verdict === 'object') return verdict;
      if (verdict === 'pending') waiting.push(`${name} (${c.health ?? c.state})`);
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
  /** Consecutive ready looks required, so a container that dies right after starting is caught. */
  readonly settleLooks?: number;
  readonly intervalMs?: number;
}

export async function waitReady(stack: DesiredStack, options: WaitOptions): Promise<Readiness> {
  const settle = options.settleLooks ?? 2;
  const interval = options.intervalMs ?? 300;
  let readyLooks = 0;
  let missingLooks = 0;
  let last = 'no container observed';
  for (;;) {
    const verdict = assess(stack, await options.observe());
    if (verdict === 'ready') {
      readyLooks++;
      if (readyLooks >= settle) return { ok: true };
    } else if ('failed' in verdict) {
      return { ok: false, message: verdict.failed };
    } else {
      readyLooks = 0;
      last = verdict.pending;
      // `compose up -d` returns once every container exists: a service still without one on
      // `settle` looks will not get one (compose scaled it to 0), so fail now, not at the timeout.
      missingLooks = verdict.missing.length > 0 ? missingLooks + 1 : 0;
      if (missingLooks >= settle) {
        return {
          ok: false,
          message: `compose created no container for ${verdict.missing.join(', ')} (an interpolated deploy.replicas or scale that is 0? write the count as a number)`,
        };
      }
    }
    if (options.clock.now() + interval > options.deadline) {
      return { ok: false, message: `timed out waiting for ${last}` };
    }
    await sleep(options.clock, interval);
  }
}
