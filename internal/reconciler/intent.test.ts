import { describe, expect, it } from '@jest/globals';
import { NO_INTENT, type StackIntent } from '../source/x_stackd.js';
import type { Snapshot } from '../source/types.js';
import { stackRecord } from '../state/record.test-helpers.js';
import { decide, type DecisionSettings } from './decide.js';
import { INSTANCE, container, desiredStack, project } from './fixtures.test-helpers.js';
import { stackSettings, suspensionOf, waitingFor } from './intent.js';
import type { ReconcileSettings } from './options.js';

const GLOBAL: ReconcileSettings = {
  enabled: true,
  prune: false,
  allowEmpty: false,
  selfHeal: true,
  timeoutMs: 60_000,
  minReadyMs: 5_000,
  crashLoopLimit: 3,
  rollback: false,
};
const ON: DecisionSettings = { enabled: true, prune: true, allowEmpty: false, selfHeal: true };
const intent = (over: Partial<StackIntent>): StackIntent => ({ ...NO_INTENT, ...over });
const NOW = (): string => '2026-12-02T10:00:00.000Z';

describe('stackSettings: x-stackd over the global settings', () => {
  it('takes each value the stack sets, the global one for the others', () => {
    const stack = desiredStack(
      'web',
      { app: 'sha256:a' },
      { intent: intent({ prune: true, selfHeal: false, minReadyMs: 10_000 }) },
    );
    expect(stackSettings(GLOBAL, stack, undefined)).toEqual({
      ...GLOBAL,
      prune: true,
      selfHeal: false,
      minReadyMs: 10_000,
    });
    expect(stackSettings(GLOBAL, desiredStack('web', { app: 'sha256:a' }), undefined)).toEqual(GLOBAL);
    expect(
      stackSettings(GLOBAL, desiredStack('w', {}, { intent: intent({ rollback: true }) }), undefined)
        .rollback,
    ).toBe(true);
  });

  it('a stack deleted from Git is pruned by its last recorded x-stackd.prune', () => {
    expect(stackSettings(GLOBAL, undefined, stackRecord({ prune: true })).prune).toBe(true);
    expect(stackSettings({ ...GLOBAL, prune: true }, undefined, stackRecord({ prune: false })).prune).toBe(
      false,
    );
    expect(stackSettings(GLOBAL, undefined, stackRecord({})).prune).toBe(false);
  });
});

describe('suspensionOf', () => {
  const suspended = desiredStack('web', {}, { intent: intent({ suspend: { reason: 'migration' } }) });

  it('the API one wins; the repository one keeps the time it was first seen', () => {
    const api = { reason: 'by hand', by: 'api' as const, at: 'then' };
    expect(suspensionOf(suspended, stackRecord({ suspended: api }), NOW)).toEqual(api);
    expect(suspensionOf(suspended, undefined, NOW)).toEqual({ reason: 'migration', by: 'repo', at: NOW() });
    const seen = { reason: 'migration', by: 'repo' as const, at: 'earlier' };
    expect(suspensionOf(suspended, stackRecord({ suspended: seen }), NOW)).toEqual(seen);
    // Removed from the compose file: over.
    expect(suspensionOf(desiredStack('web', {}), stackRecord({ suspended: seen }), NOW)).toBeNull();
  });
});

describe('waitingFor: dependsOn is met by dependencies synced at the desired revision', () => {
  const snapshot = { revision: 'r2'.padEnd(40, '0'), fetchedAt: new Date(), stacks: new Map() } as Snapshot;
  const app = desiredStack('apps/app', {}, { intent: intent({ dependsOn: ['apps/db', 'apps/cache'] }) });
  const synced = (revision: string) =>
    stackRecord({ status: 'synced', synced: { revision, composeHash: 'h', at: 'x' } });

  it.each([
    [{}, 'waiting for apps/db: not deployed yet'],
    [{ 'apps/db': stackRecord({ status: 'failed', message: 'x' }) }, 'waiting for apps/db: failed'],
    [{ 'apps/db': synced('r1') }, 'waiting for apps/db: not yet checked at r200000'],
    [{ 'apps/db': synced(snapshot.revision) }, 'waiting for apps/cache: not deployed yet'],
    [{ 'apps/db': synced(snapshot.revision), 'apps/cache': synced(snapshot.revision) }, null],
  ])('%j → %s', (records: Record<string, ReturnType<typeof stackRecord>>, expected) => {
    expect(waitingFor(app, snapshot, (id) => records[id])).toBe(expected);
  });
});

describe('decide with intent', () => {
  const running = project('web', [
    container('web', 'app', { hash: 'sha256:old' }),
    container('web', 'db', { hash: 'sha256:d' }),
  ]);
  const stopped = project('web', [
    container('web', 'app', { hash: 'sha256:a', state: 'exited', exitCode: 1 }),
    container('web', 'db', { hash: 'sha256:d' }),
  ]);
  const base = { desiredEmpty: false, settings: ON, instance: INSTANCE, force: false };
  const suspension = { reason: 'migration', by: 'repo' as const, at: 'x' };

  it('suspended: a change and drift are held with the reason, a manual sync too; in sync stays in sync', () => {
    const stack = desiredStack('web', { app: 'sha256:a', db: 'sha256:d' });
    const changed = decide({ ...base, desired: stack, observed: running, suspended: suspension });
    expect(changed).toMatchObject({
      kind: 'hold',
      message: 'suspended (x-stackd.suspend): migration; changed: app (service hash sha256:old → sha256:a)',
    });
    expect(
      decide({ ...base, desired: stack, observed: stopped, suspended: suspension, force: true }).kind,
    ).toBe('hold');
    const inSync = project('web', [
      container('web', 'app', { hash: 'sha256:a' }),
      container('web', 'db', { hash: 'sha256:d' }),
    ]);
    expect(decide({ ...base, desired: stack, observed: inSync, suspended: suspension }).kind).toBe('in_sync');
    expect(decide({ ...base, desired: undefined, observed: inSync, suspended: suspension })).toMatchObject({
      kind: 'hold',
      message: 'not in the desired state; suspended (x-stackd.suspend): migration',
    });
  });

  it('a dependency not synced holds an apply (not a manual sync), with why', () => {
    const stack = desiredStack('web', { app: 'sha256:a', db: 'sha256:d' });
    expect(
      decide({ ...base, desired: stack, observed: running, waitingFor: 'waiting for apps/db: failed' }),
    ).toMatchObject({
      kind: 'hold',
      message: 'waiting for apps/db: failed; changed: app (service hash sha256:old → sha256:a)',
    });
    expect(
      decide({ ...base, desired: stack, observed: running, waitingFor: 'waiting', force: true }).kind,
    ).toBe('apply');
    // Drift alone is healed meanwhile: what runs is kept running.
    expect(decide({ ...base, desired: stack, observed: stopped, waitingFor: 'waiting' }).kind).toBe('apply');
  });

  it('recreate: stack: a change to one service recreates all of them (--force-recreate); drift alone does not', () => {
    const whole = desiredStack(
      'web',
      { app: 'sha256:a', db: 'sha256:d' },
      { intent: intent({ recreate: 'stack' }) },
    );
    const d = decide({ ...base, desired: whole, observed: running });
    if (d.kind !== 'apply') throw new Error(d.kind);
    expect(d.plan.forceRecreate).toBe(true);
    expect(d.plan.services.map((s) => [s.name, s.change, s.why])).toEqual([
      ['app', 'recreate', 'service hash sha256:old → sha256:a'],
      ['db', 'recreate', 'recreate: stack'],
    ]);
    expect(d.plan.reason).toMatch(/; recreate: stack \(db\)$/);
    const drift = decide({ ...base, desired: whole, observed: stopped });
    if (drift.kind !== 'apply') throw new Error(drift.kind);
    expect(drift.plan.forceRecreate).toBeUndefined();
    expect(drift.plan.services.map((s) => s.name)).toEqual(['app']);
  });
});
