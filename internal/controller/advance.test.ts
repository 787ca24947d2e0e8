import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createLogger } from '../log/index.js';
import { desiredStack } from '../reconciler/fixtures.test-helpers.js';
import type { DesiredStack, Snapshot } from '../source/types.js';
import { type StackRecord, StateStore } from '../state/index.js';
import { advanceUnchanged } from './advance.js';

const snapshot = (revision: string, stacks: DesiredStack[]): Snapshot => ({
  revision,
  fetchedAt: new Date(0),
  stacks: new Map(stacks.map((s) => [s.id, s])),
});

describe('advanceUnchanged', () => {
  let dir: string;
  let state: StateStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stackd-advance-'));
    state = await StateStore.open({ dataDir: dir, logger: createLogger({ stream: new PassThrough() }) });
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const synced = (stack: DesiredStack, revision: string, extra: Partial<StackRecord> = {}): void => {
    state.setStack(stack.id, {
      project: stack.project,
      status: 'synced',
      message: '',
      synced: {
        revision,
        composeHash: stack.composeHash ?? '',
        at: '2026-01-01T00:00:00.000Z',
        appliedAt: '2025-12-31T00:00:00.000Z',
      },
      lastResult: null,
      services: [],
      history: [],
      ...extra,
    });
  };

  it('advances exactly the synced stacks the commit left as they were, with nothing pending', () => {
    const same = desiredStack('same', { web: 'sha256:1' });
    const changed = desiredStack('changed', { web: 'sha256:1' });
    const pending = desiredStack('pending', { web: 'sha256:1' });
    const failed = desiredStack('failed', { web: 'sha256:1' });
    const behind = desiredStack('behind', { web: 'sha256:1' });
    const held = desiredStack('held', { web: 'sha256:1' });
    const one = snapshot('r1', [same, changed, pending, failed, behind, held]);
    for (const s of [same, changed, pending, held]) synced(s, 'r1');
    synced(behind, 'r0');
    synced(failed, 'r1', { status: 'failed' });
    const heldRecord = state.stack('held') as StackRecord;
    const hold = {
      composeHash: held.composeHash ?? '',
      revision: 'r1',
      message: 'x',
      cause: 'invalid' as const,
    };
    state.setStack('held', { ...heldRecord, held: hold });
    // The same content read again is another object: the source reuses unchanged ones.
    const two = snapshot('r2', [same, { ...changed }, pending, failed, behind, held]);
    const records: string[] = [];
    const advanced = advanceUnchanged({
      state,
      hooks: { stackRecord: (id) => records.push(id) },
      pending: (id) => id === 'pending',
      previous: one,
      snapshot: two,
      at: '2026-02-02T00:00:00.000Z',
    });
    expect([...advanced]).toEqual(['same']);
    expect(records).toEqual(['same']);
    expect(state.stack('same')?.synced).toEqual({
      revision: 'r2',
      composeHash: same.composeHash,
      at: '2026-02-02T00:00:00.000Z',
      appliedAt: '2025-12-31T00:00:00.000Z',
    });
    for (const id of ['changed', 'pending', 'held']) expect(state.stack(id)?.synced?.revision).toBe('r1');
    expect(state.stack('behind')?.synced?.revision).toBe('r0');
  });

  it('advances nothing without a previous snapshot or at the same revision', () => {
    const same = desiredStack('same', { web: 'sha256:1' });
    synced(same, 'r1');
    const one = snapshot('r1', [same]);
    const options = { state, pending: () => false, at: '2026-02-02T00:00:00.000Z' };
    expect(advanceUnchanged({ ...options, previous: undefined, snapshot: one }).size).toBe(0);
    expect(advanceUnchanged({ ...options, previous: one, snapshot: one }).size).toBe(0);
    expect(advanceUnchanged({ ...options, previous: one, snapshot: snapshot('r2', [same]) }).size).toBe(1);
  });
});
