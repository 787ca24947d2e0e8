/** The safety net, through dispatch: crash loops after a sync, automatic rollback of a failed update. */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { LABEL_REVISION, LABEL_SERVICE_HASH } from '../labels/index.js';
import { LogEvent } from '../log/index.js';
import { composeExited, composeTimedOut, desiredStack } from './fixtures.test-helpers.js';
import { REV, REV2, type World, createWorld, failure } from './world.test-helpers.js';

const web = desiredStack('web', { app: 'sha256:app', db: 'sha256:db' });
const MINUTE = 60_000;

let w: World;
beforeEach(async () => {
  w = await createWorld();
});
afterEach(async () => {
  await w.close();
});

/** The container of `service` in project web exits with `code`. */
function exits(service: string, code: number): void {
  const p = w.projects.get('web');
  if (p === undefined) throw new Error('web does not run');
  w.projects.set('web', {
    ...p,
    containers: p.containers.map((c) =>
      c.service === service ? { ...c, state: 'exited', exitCode: code } : c,
    ),
  });
}

const container = (service: string) => w.projects.get('web')?.containers.find((c) => c.service === service);

describe('crash loops after a sync', () => {
  it('self-heals twice, then the third exit within 10 minutes is a crash loop: failed, and nothing more runs at that hash', async () => {
    w.desire(REV, web);
    await w.run({ stack: 'web' });
    const ups = (): number => w.calls.filter((c) => c.op === 'up').length;
    expect(ups()).toBe(1);
    for (const heal of [1, 2]) {
      await w.clock.advanceAsync(MINUTE);
      exits('app', 1);
      expect((await w.run({ stack: 'web' })).kind).toBe('applied');
      expect(ups()).toBe(1 + heal);
      expect(w.state.stack('web')?.heals?.at).toHaveLength(heal);
    }
    await w.clock.advanceAsync(MINUTE);
    exits('app', 1);
    const error = await failure(w.run({ stack: 'web' }));
    expect(error.name).toBe('TerminalError');
    expect(ups()).toBe(3);
    expect(w.state.stack('web')).toMatchObject({
      status: 'failed',
      message: expect.stringMatching(
        /^crash loop: app exited with code 1 3 times in 2 min/,
      ) as unknown as string,
      held: { revision: REV, cause: 'crash_loop' },
    });
    expect(await w.events()).toContain(`error ${LogEvent.reconcileCrashLoop} web`);
    // Events, resyncs: nothing runs. A manual sync tries again.
    for (let i = 0; i < 5; i++) expect((await w.run({ stack: 'web' })).kind).toBe('held');
    expect(ups()).toBe(3);
    await w.run({ stack: 'web', force: true });
    expect(ups()).toBe(4);
    expect(w.state.stack('web')).toMatchObject({ status: 'synced', held: null });
  });

  it('a manual sync starts the count afresh', async () => {
    w.desire(REV, web);
    await w.run({ stack: 'web' });
    for (let i = 0; i < 3; i++) {
      exits('app', 1);
      await w.run({ stack: 'web' }).catch(() => undefined);
    }
    expect(w.state.stack('web')?.held?.cause).toBe('crash_loop');
    await w.run({ stack: 'web', force: true });
    expect(w.state.stack('web')).toMatchObject({ status: 'synced', heals: null });
    exits('app', 1);
    expect((await w.run({ stack: 'web' })).kind).toBe('applied');
    expect(w.state.stack('web')?.heals?.at).toHaveLength(1);
  });

  it('exits further apart than the window are not a loop', async () => {
    w.desire(REV, web);
    await w.run({ stack: 'web' });
    for (let i = 0; i < 6; i++) {
      await w.clock.advanceAsync(6 * MINUTE);
      exits('db', 137);
      expect((await w.run({ stack: 'web' })).kind).toBe('applied');
    }
    expect(w.state.stack('web')?.status).toBe('synced');
    expect(w.state.stack('web')?.heals?.at.length).toBeLessThan(3);
  });

  it('a new commit that changes the stack starts counting afresh', async () => {
    w.desire(REV, web);
    await w.run({ stack: 'web' });
    for (let i = 0; i < 2; i++) {
      exits('app', 1);
      await w.run({ stack: 'web' });
    }
    w.desire(
      REV2,
      desiredStack('web', { app: 'sha256:app2', db: 'sha256:db' }, { composeHash: 'sha256:two' }),
    );
    await w.run({ stack: 'web' });
    exits('app', 1);
    expect((await w.run({ stack: 'web' })).kind).toBe('applied');
    expect(w.state.stack('web')?.heals).toMatchObject({
      composeHash: 'sha256:two',
      at: [expect.any(String)],
    });
  });
});

describe('automatic rollback', () => {
  const web2 = desiredStack('web', { app: 'sha256:app2', db: 'sha256:db' }, { composeHash: 'sha256:two' });
  const portTaken = composeExited('Bind for 0.0.0.0:8080 failed: port is already allocated');

  it('re-applies the last synced revision after a deterministic failure: only the changed service goes back', async () => {
    w.settings = { ...w.settings, rollback: true };
    w.desire(REV, web);
    await w.run({ stack: 'web' });
    const db = container('db')?.id;
    const app = container('app')?.id;
    w.desire(REV2, web2);
    w.failNext.set('up', portTaken);
    const error = await failure(w.run({ stack: 'web' }));
    expect(error.name).toBe('TerminalError');
    expect(w.calls.map((c) => c.op)).toEqual(['validate', 'up', 'validate', 'up', 'validate', 'up']);
    const record = w.state.stack('web');
    expect(record).toMatchObject({
      status: 'failed',
      message: `update to ${REV2.slice(0, 12)} failed: docker compose up failed: Bind for 0.0.0.0:8080 failed: port is already allocated; rolled back to ${REV.slice(0, 12)}`,
      synced: { revision: REV, composeHash: web.composeHash },
      rollback: {
        from: REV2,
        to: REV,
        reason: 'docker compose up failed: Bind for 0.0.0.0:8080 failed: port is already allocated',
      },
      held: { revision: REV2, composeHash: 'sha256:two', cause: 'port_in_use' },
    });
    // R1's definition and labels; the untouched service kept its container throughout.
    expect(container('app')?.labels[LABEL_SERVICE_HASH]).toBe('sha256:app');
    expect(container('app')?.id).toBe(app);
    expect(container('db')?.id).toBe(db);
    expect(container('db')?.labels[LABEL_REVISION]).toBe(REV);
    expect(w.hooks.results.at(-1)).toMatch(/^web failure/);
    const rollback = (await w.logs()).find((l) => l['event'] === LogEvent.reconcileRollback);
    expect(rollback).toMatchObject({ result: 'success', to: REV, revision: REV2 });
    // R2 is held: not tried again (and still says it was rolled back); R3 fixing it applies and
    // clears the rollback.
    expect((await w.run({ stack: 'web' })).kind).toBe('held');
    expect(w.state.stack('web')?.message).toBe(record?.message);
    w.desire(
      'c'.repeat(40),
      desiredStack('web', { app: 'sha256:app3', db: 'sha256:db' }, { composeHash: 'sha256:three' }),
    );
    expect((await w.run({ stack: 'web' })).kind).toBe('applied');
    expect(w.state.stack('web')).toMatchObject({ status: 'synced', rollback: null, held: null });
  });

  it('a revert to the synced content is in sync: the rollback and the hold are over', async () => {
    w.settings = { ...w.settings, rollback: true };
    w.desire(REV, web);
    await w.run({ stack: 'web' });
    w.desire(REV2, web2);
    w.failNext.set('up', portTaken);
    await failure(w.run({ stack: 'web' }));
    expect(w.state.stack('web')?.rollback).not.toBeNull();
    w.desire('c'.repeat(40), web);
    expect((await w.run({ stack: 'web' })).kind).toBe('in_sync');
    expect(w.state.stack('web')).toMatchObject({ status: 'synced', rollback: null, held: null });
  });

  it('a manual sync of a held hash that then fails for a transient cause is retried, not held again', async () => {
    w.desire(REV, web);
    w.failNext.set('up', portTaken);
    await failure(w.run({ stack: 'web' }));
    expect(w.state.stack('web')?.held?.cause).toBe('port_in_use');
    w.failNext.set('up', composeTimedOut());
    expect((await failure(w.run({ stack: 'web', force: true }))).name).toBe('ReconcileError');
    expect(w.state.stack('web')?.held).toBeNull();
    // The queue's retry (not forced) applies.
    expect((await w.run({ stack: 'web' })).kind).toBe('applied');
  });

  it('off: the failed update stays, and the status says so', async () => {
    w.desire(REV, web);
    await w.run({ stack: 'web' });
    w.desire(REV2, web2);
    w.failNext.set('up', portTaken);
    await failure(w.run({ stack: 'web' }));
    expect(w.calls.map((c) => c.op)).toEqual(['validate', 'up', 'validate', 'up']);
    expect(w.state.stack('web')).toMatchObject({
      status: 'failed',
      message: 'docker compose up failed: Bind for 0.0.0.0:8080 failed: port is already allocated',
      synced: { revision: REV },
    });
    expect(w.state.stack('web')?.rollback).toBeUndefined();
  });

  it('a first deploy, and a transient failure, never roll back', async () => {
    w.settings = { ...w.settings, rollback: true };
    w.desire(REV, web);
    w.failNext.set('up', portTaken);
    await failure(w.run({ stack: 'web' }));
    expect(w.calls.map((c) => c.op)).toEqual(['validate', 'up']);
    await w.run({ stack: 'web', force: true });
    w.desire(REV2, web2);
    w.failNext.set('up', composeTimedOut());
    const error = await failure(w.run({ stack: 'web' }));
    expect(error.name).toBe('ReconcileError');
    expect(w.calls.filter((c) => c.op === 'up')).toHaveLength(3);
  });

  it('a rollback whose revision is not in the local repository says so and leaves the stack failed', async () => {
    w.settings = { ...w.settings, rollback: true };
    w.desire(REV, web);
    await w.run({ stack: 'web' });
    w.state.setStack('web', {
      ...w.state.stack('web')!,
      synced: { revision: 'd'.repeat(40), composeHash: web.composeHash ?? '', at: '' },
    });
    w.desire(REV2, web2);
    w.failNext.set('up', portTaken);
    await failure(w.run({ stack: 'web' }));
    expect(w.state.stack('web')?.message).toMatch(
      /; not rolled back: the stack as synced at dddddddddddd is not in the local repository$/,
    );
    expect((await w.logs()).find((l) => l['event'] === LogEvent.reconcileRollback)).toMatchObject({
      result: 'failure',
    });
  });
});
