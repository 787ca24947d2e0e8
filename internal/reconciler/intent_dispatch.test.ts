/** Per-stack intent through dispatch, in process (world.test-helpers.ts): what a reconcile records and runs. */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { NO_INTENT, type StackIntent } from '../source/x_stackd.js';
import { desiredStack } from './fixtures.test-helpers.js';
import { Recorder } from './recorder.js';
import { REV, REV2, type World, createWorld } from './world.test-helpers.js';
import { silentLogger } from '../log/index.js';
import { stackRecord } from '../state/record.test-helpers.js';

const intent = (over: Partial<StackIntent>): StackIntent => ({ ...NO_INTENT, ...over });
const web = (over: Partial<StackIntent>) =>
  desiredStack('web', { app: 'sha256:app' }, { intent: intent(over) });

let w: World;
beforeEach(async () => {
  w = await createWorld();
});
afterEach(async () => {
  await w.close();
});

describe('dispatch with x-stackd', () => {
  it('a stack suspended in Git and then moved away (gone from the desired state) is not removed', async () => {
    w.desire(REV, web({ suspend: { reason: 'migration' } }));
    w.running(['app', 'sha256:app']);
    await w.run({ stack: 'web' });
    expect(w.state.stack('web')?.suspended).toMatchObject({ reason: 'migration', by: 'repo' });
    w.desire(REV2, desiredStack('other', { app: 'sha256:x' }));
    const outcome = await w.run({ stack: 'web' });
    expect(outcome.kind).toBe('held');
    expect(w.calls.filter((c) => c.op === 'down')).toEqual([]);
    expect(w.state.stack('web')?.message).toBe(
      'not in the desired state; suspended (x-stackd.suspend): migration',
    );
  });

  it('a commit that makes the stack unreadable keeps its recorded prune and suspension', async () => {
    w.desire(REV, web({ prune: false, suspend: { reason: 'hands off' } }));
    w.running(['app', 'sha256:app']);
    await w.run({ stack: 'web' });
    expect(w.state.stack('web')).toMatchObject({ prune: false, suspended: { by: 'repo' } });
    w.desire(REV2, {
      ...desiredStack('web', {}),
      error: 'compose.yaml: unknown key `x-stackd.prnue`',
      composeHash: null,
    });
    await w.run({ stack: 'web' }).catch(() => undefined);
    expect(w.state.stack('web')).toMatchObject({
      status: 'failed',
      prune: false,
      suspended: { reason: 'hands off' },
    });
  });

  it('a minReady no apply can meet (not shorter than reconcile.timeout) fails the stack naming the key', async () => {
    w.desire(REV, web({ minReadyMs: w.settings.timeoutMs }));
    await w.run({ stack: 'web' }).catch(() => undefined);
    expect(w.state.stack('web')?.status).toBe('failed');
    expect(w.state.stack('web')?.message).toMatch(
      /`x-stackd\.minReady` \(\d+ ms\) must be shorter than reconcile\.timeout/,
    );
    expect(w.calls).toEqual([]);
  });

  it('a suspension set through the API while a reconcile ran is not overwritten by its record', () => {
    const recorder = new Recorder({ state: w.state, logger: silentLogger(), instance: 'i', clock: w.clock });
    const api = { reason: 'by hand', by: 'api' as const, at: 'now' };
    w.state.setStack('web', stackRecord({ project: 'web', suspended: api }));
    recorder.commit('web', {
      kind: 'held',
      record: {
        project: 'web',
        patch: { status: 'out_of_sync', message: 'm', suspended: { reason: 'repo', by: 'repo', at: 'x' } },
      },
    });
    expect(w.state.stack('web')?.suspended).toEqual(api);
  });
});
