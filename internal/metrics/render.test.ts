import { describe, expect, it, jest } from '@jest/globals';
import { FakeClock } from '../../pkg/clock/fake.js';
import { Registry } from 'prom-client';
import { stackRecord } from '../state/record.test-helpers.js';
import { DROPPED_DEFAULT_METRICS, createMetrics } from './metrics.js';

const SYNCED = stackRecord({});

describe('Metrics.render', () => {
  it('renders once for concurrent callers and reuses the body while nothing changes, for at most a second', async () => {
    const clock = new FakeClock(1_000_000);
    const registry = new Registry();
    const metrics = createMetrics({ registry, defaultMetrics: false, clock });
    const spy = jest.spyOn(registry, 'metrics');
    const bodies = await Promise.all(Array.from({ length: 500 }, () => metrics.render()));
    expect(spy).toHaveBeenCalledTimes(1);
    expect(new Set(bodies).size).toBe(1);
    clock.advance(999);
    await metrics.render();
    expect(spy).toHaveBeenCalledTimes(1);
    clock.advance(1);
    await metrics.render();
    expect(spy).toHaveBeenCalledTimes(2);
  });

  it('a change any hook reports is in the next render at once', async () => {
    let up = true;
    const metrics = createMetrics({
      defaultMetrics: false,
      clock: new FakeClock(1_000_000),
      runtimeUp: () => up,
    });
    expect(await metrics.render()).not.toContain('stack="web"');
    metrics.hooks.stackRecord?.('web', SYNCED);
    expect(await metrics.render()).toContain('stackd_stack_status{stack="web",status="synced"} 1');
    metrics.hooks.queue?.add?.();
    expect(await metrics.render()).toContain('stackd_workqueue_adds_total 1');
    metrics.webhook('github', 'duplicate');
    expect(await metrics.render()).toContain('result="duplicate"} 1');
    expect(await metrics.render()).toContain('stackd_runtime_up 1');
    up = false;
    expect(await metrics.render()).toContain('stackd_runtime_up 0');
  });

  it('the default process metrics leave out the per-handle collectors, whose cost grows with connections', async () => {
    const text = await createMetrics().render();
    expect(text).toContain('process_resident_memory_bytes');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    for (const name of DROPPED_DEFAULT_METRICS) expect(text).not.toMatch(new RegExp(`^${name}[ {]`, 'm'));
  });
});
