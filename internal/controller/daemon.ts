/**
 * The composition root of `stackd run`: the runtime (source, informer, compose, state, reconciler),
 * the metrics and the controller, wired to each other once, here. Parts may be injected (tests pass
 * in-memory fakes, a FakeClock); the HTTP server and the process's signals stay with the command.
 */
import type { Config } from '../config/index.js';
import type { Logger } from '../log/index.js';
import { type Feedback, createFeedback } from '../feedback/index.js';
import { type Metrics, createMetrics } from '../metrics/index.js';
import { Controller } from './controller.js';
import type { ControllerOptions } from './options.js';
import { type Runtime, type RuntimeParts, createRuntime } from './runtime.js';

export interface DaemonParts extends RuntimeParts {
  readonly logger: Logger;
  /** @default metrics whose stackd_runtime_up and longest-running gauges read this daemon */
  readonly metrics?: Metrics;
  /** Draws the poll jitter. @default Math.random */
  readonly random?: () => number;
  /** Take the dataDir lock and reap compose processes left behind (see `RuntimeOptions`). @default true */
  readonly lock?: boolean;
  /** Controller tuning for tests. @default the schedule.ts values */
  readonly tuning?: Pick<ControllerOptions, 'backoff' | 'refreshMinGapMs'>;
}

export interface Daemon {
  readonly runtime: Runtime;
  readonly controller: Controller;
  readonly metrics: Metrics;
  /** Notifications and commit statuses; null when none is configured. */
  readonly feedback: Feedback | null;
}

export async function createDaemon(config: Config, parts: DaemonParts): Promise<Daemon> {
  const { logger } = parts;
  // Read at scrape time, which only happens once the server listens, after both exist.
  const metrics: Metrics =
    parts.metrics ??
    createMetrics({
      ...(parts.clock === undefined ? {} : { clock: parts.clock }),
      runtimeUp: () => runtime.informer.current().up && runtime.engine.stalled() === undefined,
      longestRunningSeconds: (): number => controller.queue.longestRunningSeconds(),
      notifyTargets: config.notify.targets.map((t) => t.name),
    });
  // Notifications and commit statuses: their files are read (and refused) before anything starts.
  const feedback = createFeedback(config, {
    logger,
    ...(parts.clock === undefined ? {} : { clock: parts.clock }),
    count: metrics,
    // A commit's applies run one after the other: its burst is over once the queue is idle.
    busy: () => controller.queue.len() > 0 || controller.queue.longestRunningSeconds() > 0,
  });
  const runtime = await createRuntime(
    config,
    logger,
    {
      onRecord: (id, record) => {
        metrics.hooks.stackRecord?.(id, record);
        feedback?.record(id, record);
      },
      onApplyStart: (id, target, driftOnly) => feedback?.applyStarted(id, target, driftOnly),
      onResult: (id, outcome, ms) => metrics.hooks.reconcile?.(id, outcome, ms / 1000),
      onRollback: (id, outcome) => metrics.hooks.rollback?.(id, outcome),
      onBuild: (id, outcome, ms) => metrics.hooks.build?.(id, outcome, ms / 1000),
    },
    { ...(parts.lock === undefined ? {} : { lock: parts.lock }), parts },
  );
  const controller: Controller = new Controller({
    source: runtime.source,
    informer: runtime.informer,
    reconciler: runtime.reconciler,
    state: runtime.state,
    logger,
    instance: config.instance,
    inScope: runtime.inScope,
    reconcileEnabled: config.reconcile.enabled,
    pollIntervalMs: config.source.pollInterval,
    resyncIntervalMs: config.reconcile.resyncInterval,
    hooks: metrics.hooks,
    engine: runtime.engine,
    sourceUrl: config.source.url,
    sourceBranch: config.source.branch,
    images: runtime.images.watcher,
    ...(parts.clock === undefined ? {} : { clock: parts.clock }),
    ...(parts.random === undefined ? {} : { random: parts.random }),
    ...parts.tuning,
  });
  runtime.imageHooks.onChange = (ids) => {
    controller.imagesChanged(ids);
  };
  runtime.imageHooks.onCheck = (result) => metrics.hooks.imageCheck?.(result);
  // The recorded stacks are exported from the start; the controller takes out-of-scope ones away.
  for (const [id, record] of Object.entries(runtime.state.data.stacks))
    metrics.hooks.stackRecord?.(id, record);
  feedback?.prime(Object.entries(runtime.state.data.stacks));
  return { runtime, controller, metrics, feedback };
}
