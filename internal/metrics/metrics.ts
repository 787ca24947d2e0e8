/** `createMetrics`: one registry holding every stackd metric, and the hooks that feed it. */
import { realClock, type Clock } from '../../pkg/clock/index.js';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { ControllerHooks } from '../controller/hooks.js';
import {
  COMMIT_STATUSES_TOTAL,
  DELIVERY_RESULTS,
  EVENT_STREAMS,
  NOTIFICATIONS_TOTAL,
  RUNTIME_UP,
  type DeliveryResultLabel,
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
  /** Timestamps (wall clock) and the render cache's age. @default realClock */
  readonly clock?: Clock;
  /** The names of notify.targets: their series exist (at 0) from the start. @default [] */
  readonly notifyTargets?: readonly string[];
}

export interface Metrics {
  /** Every stackd metric (and the process metrics): what `GET /metrics` serves. */
  readonly registry: Registry;
  /**
   * The registry in the text format, rendered at most once a second while nothing stackd reports
   * changes (a hook call, `stackd_runtime_up`), and once for any number of concurrent callers: a
   * burst of scrapes costs one render, and a change is visible to the next scrape at once.
   */
  render(): Promise<string>;
  /** Give these to the Controller (`ControllerOptions.hooks`). */
  readonly hooks: ControllerHooks;
  /** Count one webhook request. */
  webhook(provider: WebhookProviderLabel, result: WebhookResult): void;
  /** Count one notification's delivery to a target (all its attempts). */
  notification(target: string, result: DeliveryResultLabel): void;
  /** Count one commit status posted to the forge. */
  commitStatus(result: DeliveryResultLabel): void;
  /** The number of open event streams (`GET /api/v1/events`) is now `open`. */
  eventStreams(open: number): void;
}

/**
 * prom-client's per-handle collectors: each scrape lists every open handle, so their cost grows
 * with the number of connections — 5,000 concurrent scrapes made 25 million steps. Not collected.
 */
export const DROPPED_DEFAULT_METRICS = [
  'nodejs_active_handles',
  'nodejs_active_handles_total',
  'nodejs_active_requests',
  'nodejs_active_requests_total',
  'nodejs_active_resources',
  'nodejs_active_resources_total',
] as const;

/** Longest a rendered body is reused while nothing changes, in ms. */
const RENDER_MAX_AGE_MS = 1000;

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = options.registry ?? new Registry();
  if (options.defaultMetrics ?? true) {
    collectDefaultMetrics({ register: registry });
    for (const name of DROPPED_DEFAULT_METRICS) registry.removeSingleMetric(name);
  }
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
  const notifications = new Counter({
    name: NOTIFICATIONS_TOTAL,
    help: 'Notifications per target (notify.targets), by result: sent, or failed after its retries.',
    labelNames: ['target', 'result'] as const,
    registers: [registry],
  });
  for (const target of options.notifyTargets ?? [])
    for (const result of DELIVERY_RESULTS) notifications.inc({ target, result }, 0);
  const commitStatuses = new Counter({
    name: COMMIT_STATUSES_TOTAL,
    help: 'Commit statuses posted to the forge (scm.commitStatus), by result: sent, or failed after its retries.',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  for (const result of DELIVERY_RESULTS) commitStatuses.inc({ result }, 0);
  const eventStreams = new Gauge({
    name: EVENT_STREAMS,
    help: 'Open event streams (GET /api/v1/events: status pages watching).',
    registers: [registry],
  });
  /** Bumped by every report: a rendered body is reused only while it is unchanged. */
  let generation = 0;
  const counted = <T extends object>(target: T): T => {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(target)) {
      out[key] =
        typeof value === 'function'
          ? (...args: unknown[]) => {
              generation++;
              return (value as (...a: unknown[]) => unknown)(...args);
            }
          : value;
    }
    return out as T;
  };
  const clock = options.clock ?? realClock;
  const hooks: ControllerHooks = counted({
    ...sourceHooks(registry, clock),
    ...stackHooks(registry),
    queue: counted(queueHooks(registry, options.longestRunningSeconds ?? (() => 0))),
  });
  let cached: { key: string; at: number; text: string } | undefined;
  let rendering: { key: string; text: Promise<string> } | undefined;
  return {
    registry,
    hooks,
    webhook: (provider, result) => {
      generation++;
      webhooks.inc({ provider: WEBHOOK_PROVIDERS.includes(provider) ? provider : 'unknown', result });
    },
    notification: (target, result) => {
      generation++;
      notifications.inc({ target, result });
    },
    commitStatus: (result) => {
      generation++;
      commitStatuses.inc({ result });
    },
    eventStreams: (open) => {
      generation++;
      eventStreams.set(open);
    },
    render() {
      const key = `${generation}:${runtimeUp() ? 1 : 0}`;
      if (cached?.key === key && clock.now() - cached.at < RENDER_MAX_AGE_MS)
        return Promise.resolve(cached.text);
      if (rendering?.key === key) return rendering.text;
      const text = registry.metrics().then((body) => {
        cached = { key, at: clock.now(), text: body };
        return body;
      });
      const current = { key, text };
      rendering = current;
      void text
        .finally(() => {
          if (rendering === current) rendering = undefined;
        })
        .catch(() => undefined);
      return text;
    },
  };
}
