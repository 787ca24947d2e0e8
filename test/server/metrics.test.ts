import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { FakeClock } from '../../pkg/clock/fake.js';
import { Registry } from 'prom-client';
import { METRIC_NAMES, type Metrics, createMetrics } from '../../internal/metrics/index.js';
import type { StackRecord } from '../../internal/state/index.js';
import { STACK_STATUSES } from '../../internal/status/index.js';
import { type Harness, startServer } from './harness.js';

/** DESIGN.md §5, verbatim: the contract this test pins. */
const DESIGN_NAMES = [
  'stackd_stack_status',
  'stackd_stack_last_sync_timestamp_seconds',
  'stackd_reconcile_total',
  'stackd_reconcile_duration_seconds',
  'stackd_source_fetch_total',
  'stackd_source_fetch_duration_seconds',
  'stackd_source_revision_info',
  'stackd_webhook_requests_total',
  'stackd_runtime_up',
  'stackd_workqueue_depth',
  'stackd_workqueue_adds_total',
  'stackd_workqueue_queue_duration_seconds',
  'stackd_workqueue_work_duration_seconds',
  'stackd_workqueue_retries_total',
  'stackd_workqueue_longest_running_processor_seconds',
];
const ADDITIONS = [
  'stackd_source_last_success_timestamp_seconds',
  'stackd_rollbacks_total',
  'stackd_builds_total',
  // Issue 14's image updates.
  'stackd_image_update_available',
  'stackd_image_checks_total',
  'stackd_notifications_total',
  'stackd_stack_suspended',
  'stackd_commit_statuses_total',
  // Issue 17's status page.
  'stackd_event_streams',
];

function record(status: StackRecord['status'], syncedAt: string | null): StackRecord {
  return {
    project: 'a',
    status,
    message: '',
    synced:
      syncedAt === null ? null : { revision: 'r1', composeHash: `sha256:${'0'.repeat(64)}`, at: syncedAt },
    lastResult: null,
    services: [],
    history: [],
  };
}

const NOW_MS = 1_714_557_600_000; // 2024-05-01T10:00:00Z

function lines(text: string, prefix: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(prefix));
}

describe('GET /metrics', () => {
  let h: Harness;
  let metrics: Metrics;
  let up = true;
  beforeEach(async () => {
    up = true;
    metrics = createMetrics({
      runtimeUp: () => up,
      longestRunningSeconds: () => 2.5,
      clock: new FakeClock(0, NOW_MS),
    });
    h = await startServer({ metrics, webhookSecret: 'whsec-0123456789' });
  });
  afterEach(async () => {
    await h.close();
  });

  async function scrape(): Promise<string> {
    const response = await fetch(`${h.base}/metrics`);
    expect(response.status).toBe(200);
    return response.text();
  }

  it('serves the Prometheus text format with its content type', async () => {
    const response = await fetch(`${h.base}/metrics`);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await response.text()).toMatch(/^# HELP /);
  });

  it('exports every metric name of DESIGN.md §5, the addition, and the process metrics', async () => {
    const text = await scrape();
    for (const name of [...DESIGN_NAMES, ...ADDITIONS]) expect(text).toContain(`# TYPE ${name} `);
    expect([...METRIC_NAMES].sort()).toEqual([...DESIGN_NAMES, ...ADDITIONS].sort());
    expect(text).toContain('# TYPE process_cpu_user_seconds_total counter');
    expect(text).toContain('# TYPE nodejs_heap_size_used_bytes gauge');
  });

  it('counts rollbacks per stack and result, and drops them with the stack', async () => {
    metrics.hooks.rollback?.('apps/web', 'success');
    metrics.hooks.rollback?.('apps/web', 'success');
    metrics.hooks.rollback?.('apps/web', 'failure');
    let text = await scrape();
    expect(text).toContain('stackd_rollbacks_total{stack="apps/web",result="success"} 2');
    expect(text).toContain('stackd_rollbacks_total{stack="apps/web",result="failure"} 1');
    metrics.hooks.stackGone?.('apps/web');
    text = await scrape();
    expect(lines(text, 'stackd_rollbacks_total{')).toEqual([]);
  });

  it('counts builds per stack and result, and drops them with the stack', async () => {
    metrics.hooks.build?.('apps/web', 'success', 1.5);
    metrics.hooks.build?.('apps/web', 'failure', 0.2);
    let text = await scrape();
    expect(text).toContain('stackd_builds_total{stack="apps/web",result="success"} 1');
    expect(text).toContain('stackd_builds_total{stack="apps/web",result="failure"} 1');
    metrics.hooks.stackGone?.('apps/web');
    text = await scrape();
    expect(lines(text, 'stackd_builds_total{')).toEqual([]);
  });

  it('stack status is 1 for the current status and 0 for the five others', async () => {
    metrics.hooks.stackRecord?.('a', record('synced', '2024-05-01T09:00:00.000Z'));
    metrics.hooks.stackRecord?.('apps/web', record('failed', null));
    let text = await scrape();
    expect(text).toContain('stackd_stack_status{stack="a",status="synced"} 1');
    expect(text).toContain('stackd_stack_status{stack="a",status="failed"} 0');
    expect(lines(text, 'stackd_stack_status{stack="a",')).toHaveLength(STACK_STATUSES.length);
    expect(lines(text, 'stackd_stack_status{stack="a",').filter((l) => l.endsWith(' 1'))).toHaveLength(1);
    expect(text).toContain('stackd_stack_status{stack="apps/web",status="failed"} 1');
    expect(text).toContain('stackd_stack_last_sync_timestamp_seconds{stack="a"} 1714554000');
    expect(lines(text, 'stackd_stack_last_sync_timestamp_seconds{stack="apps/web"}')).toEqual([]);

    metrics.hooks.stackRecord?.('a', record('syncing', '2024-05-01T09:00:00.000Z'));
    text = await scrape();
    expect(text).toContain('stackd_stack_status{stack="a",status="syncing"} 1');
    expect(text).toContain('stackd_stack_status{stack="a",status="synced"} 0');
  });

  it("stackGone removes that stack's series only", async () => {
    metrics.hooks.stackRecord?.('a', record('synced', '2024-05-01T09:00:00.000Z'));
    metrics.hooks.stackRecord?.('b', record('synced', '2024-05-01T09:00:00.000Z'));
    metrics.hooks.reconcile?.('a', 'success', 1);
    metrics.hooks.stackGone?.('a');
    const text = await scrape();
    expect(text).not.toContain('stack="a"');
    expect(text).toContain('stackd_stack_status{stack="b",status="synced"} 1');
    expect(text).toContain('stackd_stack_last_sync_timestamp_seconds{stack="b"}');
  });

  it('reconcile counts by stack and result and observes the duration', async () => {
    metrics.hooks.reconcile?.('a', 'success', 1.2);
    metrics.hooks.reconcile?.('a', 'success', 0.3);
    metrics.hooks.reconcile?.('a', 'failure', 40);
    const text = await scrape();
    expect(text).toContain('stackd_reconcile_total{stack="a",result="success"} 2');
    expect(text).toContain('stackd_reconcile_total{stack="a",result="failure"} 1');
    expect(text).toContain('stackd_reconcile_duration_seconds_count 3');
    expect(text).toContain('stackd_reconcile_duration_seconds_sum 41.5');
    expect(text).toContain('stackd_reconcile_duration_seconds_bucket{le="1"} 1');
  });

  it('fetch counts by result, observes the duration, and stamps the last success', async () => {
    let text = await scrape();
    expect(text).toContain('stackd_source_fetch_total{result="success"} 0');
    expect(text).toContain('stackd_source_last_success_timestamp_seconds 0');
    metrics.hooks.fetch?.('success', 0.2);
    metrics.hooks.fetch?.('failure', 5);
    text = await scrape();
    expect(text).toContain('stackd_source_fetch_total{result="success"} 1');
    expect(text).toContain('stackd_source_fetch_total{result="failure"} 1');
    expect(text).toContain('stackd_source_fetch_duration_seconds_count 2');
    expect(text).toContain(`stackd_source_last_success_timestamp_seconds ${NOW_MS / 1000}`);
  });

  it('revision info is 1 for the current revision only', async () => {
    metrics.hooks.revision?.('aaaa');
    metrics.hooks.revision?.('bbbb');
    const text = await scrape();
    expect(lines(text, 'stackd_source_revision_info{')).toEqual([
      'stackd_source_revision_info{revision="bbbb"} 1',
    ]);
  });

  it('work queue hooks feed the stackd_workqueue_* metrics; the longest running is read at scrape time', async () => {
    const q = metrics.hooks.queue;
    q?.add?.();
    q?.add?.();
    q?.depth?.(3);
    q?.queueDuration?.(0.05);
    q?.workDuration?.(1.5);
    q?.retry?.();
    const text = await scrape();
    expect(text).toContain('stackd_workqueue_adds_total 2');
    expect(text).toContain('stackd_workqueue_depth 3');
    expect(text).toContain('stackd_workqueue_queue_duration_seconds_count 1');
    expect(text).toContain('stackd_workqueue_work_duration_seconds_sum 1.5');
    expect(text).toContain('stackd_workqueue_retries_total 1');
    expect(text).toContain('stackd_workqueue_longest_running_processor_seconds 2.5');
  });

  it('runtime up is read at scrape time', async () => {
    expect(await scrape()).toContain('stackd_runtime_up 1');
    up = false;
    expect(await scrape()).toContain('stackd_runtime_up 0');
  });

  it('webhook requests are counted by provider and result', async () => {
    metrics.webhook('github', 'accepted');
    metrics.webhook('gitlab', 'rejected');
    const text = await scrape();
    expect(text).toContain('stackd_webhook_requests_total{provider="github",result="accepted"} 1');
    expect(text).toContain('stackd_webhook_requests_total{provider="gitlab",result="rejected"} 1');
  });
});

describe('createMetrics', () => {
  it('uses a fresh registry each time, so many can coexist', async () => {
    const a = createMetrics();
    const b = createMetrics();
    expect(a.registry).not.toBe(b.registry);
    a.hooks.fetch?.('success', 1);
    expect(await b.registry.metrics()).toContain('stackd_source_fetch_total{result="success"} 0');
  });

  it('registers in a registry it is given', async () => {
    const registry = new Registry();
    const m = createMetrics({ registry, defaultMetrics: false });
    expect(m.registry).toBe(registry);
    expect(await registry.metrics()).toContain('# TYPE stackd_runtime_up gauge');
    expect(await registry.metrics()).not.toContain('process_cpu_user_seconds_total');
  });

  it('reports the runtime down and no running worker when not told otherwise', async () => {
    const text = await createMetrics({ defaultMetrics: false }).registry.metrics();
    expect(text).toContain('stackd_runtime_up 0');
    expect(text).toContain('stackd_workqueue_longest_running_processor_seconds 0');
  });
});
