/** `createMetrics`: one registry holding every stackd metric, and the hooks that feed it. */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { ControllerHooks } from '../controller/hooks.js';
import {
  RUNTIME_UP,
  WEBHOOK_PROVIDERS,
  WEBHOOK_REQUESTS_TOTAL,
  WEBHOOK_RESULTS,
  type WebhookProviderLabel,
  type WebhookResult,
} from './names.js';
import { queueHooks } from './queue.js';
import { sourceHooks } from './source.js';
import { stackHooks } from './stacks.js';

export interface MetricsOptions {
  /** The registry to register in; it must not hold stackd metrics yet. @default a new Registry */
  readonly registry?: Registry;
  /** Read at scrape time for `stackd_runtime_up`: whether the Docker engine answers. @default () => false */
  readonly runtimeUp?: () => boolean;
  /**
   * Read at scrape time for `stackd_workqueue_longest_running_processor_seconds`, typically
   * `() => controller.queue.longestRunningSeconds()` (the controller may be created afterwards).
   * @default () => 0
   */
  readonly longestRunningSeconds?: () => number;
  /** Register prom-client's default process metrics. @default true */
  readonly defaultMetrics?: boolean;
  /** Milliseconds since the epoch, for timestamps. @default Date.now */
  readonly now?: () => number;
}

export interface Metrics {
  /** Every stackd metric (and the process metrics): what `GET /metrics` serves. */
  readonly registry: Registry;
  /** Give these to the Controller (`ControllerOptions.hooks`). */
  readonly hooks: ControllerHooks;
  /** Count one webhook request. */
  webhook(provider: WebhookProviderLabel, result: WebhookResult): void;
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = options.registry ?? new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const runtimeUp = options.runtimeUp ?? (() => false);
  new Gauge({
    name: RUNTIME_UP,
    help: 'Whether the Docker engine answers (1) or not (0).',
    registers: [registry],
    collect() {
      this.set(runtimeUp() ? 1 : 0);
    },
  });
  const webhooks = new Counter({
    name: WEBHOOK_REQUESTS_TOTAL,
    help: `Webhook requests, by provider and result (${WEBHOOK_RESULTS.join(', ')}).`,
    labelNames: ['provider', 'result'] as const,
    registers: [registry],
  });
  const hooks: ControllerHooks = {
    ...sourceHooks(registry, options.now ?? Date.now),
    ...stackHooks(registry),
    queue: queueHooks(registry, options.longestRunningSeconds ?? (() => 0)),
  };
  return {
    registry,
    hooks,
    webhook: (provider, result) => {
      webhooks.inc({ provider: WEBHOOK_PROVIDERS.includes(provider) ? provider : 'unknown', result });
    },
  };
}
