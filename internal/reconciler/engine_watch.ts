/**
 * An engine that answers lists and events but never starts a container (a hung dockerd, a
 * full disk under its root, a stuck storage driver) looked healthy before: `/readyz` ready,
 * `stackd_runtime_up 1`, while every apply burnt its whole timeout. So while `compose up` runs,
 * the containers it created are watched: one still `created` after `boundMs`, with none of that
 * apply's containers started, marks the engine as not starting containers — not ready, runtime
 * down — until a `compose up` succeeds again.
 */
import { sleep, type Clock } from '../../pkg/clock/index.js';
import type { Informer, ObservedContainer } from '../informer/types.js';

/** Shared between the reconciler (which sets and clears it) and the readiness and metric readers. */
export class EngineHealth {
  #stalled: string | undefined;

  /** Why the engine is taken for not starting containers, or undefined while it is not. */
  stalled(): string | undefined {
    return this.#stalled;
  }

  markStalled(reason: string): void {
    this.#stalled = reason;
  }

  clear(): void {
    this.#stalled = undefined;
  }
}

export interface StartWatchOptions {
  readonly informer: Pick<Informer, 'current'>;
  readonly project: string;
  /** How long a created container may wait for its start. */
  readonly boundMs: number;
  readonly clock: Clock;
  /** Called once, when the bound is passed. */
  readonly onStall: (reason: string) => void;
}

/**
 * Watch until `stop()`; at most one look a second, on the informer's cache (no Docker call). The
 * containers watched are the ones this `up` must start: those it creates (not there when the
 * watch began) and those left `created` by an earlier attempt. A container's wait is counted only
 * while no other container of its service runs: compose creates a replacement before it stops
 * the old container, and a slow stop (a long `stop_grace_period`) is not a stalled engine.
 */
export function watchStarts(options: StartWatchOptions): { stop(): void } {
  const state = { stopped: false };
  /** Watched container id → since when it has waited with no sibling running. */
  const waitingSince = new Map<string, number>();
  const at = (): readonly ObservedContainer[] =>
    options.informer.current().projects.get(options.project)?.containers ?? [];
  const before = new Map(at().map((c) => [c.id, c.state]));
  const watched = (c: ObservedContainer): boolean =>
    before.get(c.id) === undefined || before.get(c.id) === 'created';
  void (async () => {
    while (!state.stopped) {
      await sleep(options.clock, Math.min(1000, options.boundMs));
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- stop() may run during the sleep
      if (state.stopped) return;
      const all = at();
      const containers = all.filter(watched);
      if (containers.some((c) => c.state !== 'created')) return; // the engine starts this apply's containers
      const now = options.clock.now();
      for (const c of containers) {
        const siblingRuns = all.some(
          (o) =>
            o.id !== c.id && o.service === c.service && (o.state === 'running' || o.state === 'restarting'),
        );
        if (siblingRuns) waitingSince.delete(c.id);
        else if (!waitingSince.has(c.id)) waitingSince.set(c.id, now);
      }
      for (const c of containers) {
        const since = waitingSince.get(c.id);
        if (since !== undefined && now - since >= options.boundMs) {
          options.onStall(
            `the Docker engine has started no container for ${Math.round((now - since) / 1000)} s (${c.name} created, not started)`,
          );
          return;
        }
      }
    }
  })();
  return {
    stop() {
      state.stopped = true;
    },
  };
}
