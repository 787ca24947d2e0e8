import { describe, expect, it } from '@jest/globals';
import { Registry } from 'prom-client';
import type { StackRecord } from '../state/index.js';
import { STACK_STATUSES } from '../status/index.js';
import { stackHooks } from './stacks.js';

function record(status: StackRecord['status'], syncedAt: string | null = null): StackRecord {
  return {
    project: 'p',
    status,
    message: '',
    synced: syncedAt === null ? null : { revision: 'r', composeHash: 'sha256:x', at: syncedAt },
    lastResult: null,
    services: [],
    history: [],
  };
}

const seriesOf = async (registry: Registry, stack: string): Promise<string[]> =>
  (await registry.metrics()).split('\n').filter((l) => l.includes(`stack="${stack}"`));

describe('stack metrics', () => {
  it('stackGone takes every series of the stack away; a stack that comes back starts afresh', async () => {
    const registry = new Registry();
    const hooks = stackHooks(registry);
    hooks.stackRecord('a', record('missing', '2024-05-01T09:00:00.000Z'));
    hooks.reconcile('a', 'success', 1);
    hooks.reconcile('a', 'failure', 1);
    hooks.stackRecord('b', record('synced'));
    expect(await seriesOf(registry, 'a')).toHaveLength(STACK_STATUSES.length + 1 + 1 + 2);
    hooks.stackGone('a');
    expect(await seriesOf(registry, 'a')).toEqual([]);
    expect(await seriesOf(registry, 'b')).toContain('stackd_stack_status{stack="b",status="synced"} 1');
    // Forgetting a stack twice, or one never seen, is harmless.
    hooks.stackGone('a');
    hooks.stackGone('never');
    hooks.stackRecord('a', record('unknown'));
    hooks.reconcile('a', 'success', 1);
    const again = await seriesOf(registry, 'a');
    expect(again).toContain('stackd_stack_status{stack="a",status="unknown"} 1');
    expect(again).toContain('stackd_reconcile_total{stack="a",result="success"} 1');
    expect(again.filter((l) => l.startsWith('stackd_reconcile_total'))).toHaveLength(1);
  });

  it('the last sync timestamp is when the stack was applied, not when synced.at last moved', async () => {
    const registry = new Registry();
    const hooks = stackHooks(registry);
    const applied = {
      ...record('synced'),
      synced: {
        revision: 'r2',
        composeHash: 'sha256:x',
        at: '2024-05-01T10:00:00.000Z',
        appliedAt: '2024-05-01T09:00:00.000Z',
      },
    };
    hooks.stackRecord('a', applied);
    expect(await seriesOf(registry, 'a')).toContain(
      'stackd_stack_last_sync_timestamp_seconds{stack="a"} 1714554000',
    );
    // A record from 0.1 (no appliedAt): synced.at is all there is.
    hooks.stackRecord('b', record('synced', '2024-05-01T10:00:00.000Z'));
    expect(await seriesOf(registry, 'b')).toContain(
      'stackd_stack_last_sync_timestamp_seconds{stack="b"} 1714557600',
    );
  });
});
