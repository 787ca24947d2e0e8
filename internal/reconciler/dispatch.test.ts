/** Dispatch's record-only branches: in sync, held (paused, self-heal off, prune off), invalid, foreign, unreachable, gone. */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { LogEvent } from '../log/index.js';
import { INSTANCE, container, desiredStack, project } from './fixtures.test-helpers.js';
import { REV, REV2, SETTINGS, type World, at, createWorld, failure } from './world.test-helpers.js';

const web = desiredStack('web', { app: 'sha256:app', db: 'sha256:db' });

let w: World;
beforeEach(async () => {
  w = await createWorld();
});
afterEach(async () => {
  await w.close();
});

describe('dispatch: skip', () => {
  it('in sync: records synced without touching the runtime, and writes nothing when nothing changed', async () => {
    w.desire(REV, web);
    w.running(['app', 'sha256:app'], ['db', 'sha256:db']);
    expect((await w.run({ stack: 'web' })).kind).toBe('in_sync');
    expect(w.calls).toEqual([]);
    expect(w.writes.map((x) => x.record.status)).toEqual(['synced']);
    expect(w.state.stack('web')?.synced).toEqual({
      revision: REV,
      composeHash: 'sha256:stack-web',
      at: at(0),
    });
    w.clock.advance(5000);
    expect((await w.run({ stack: 'web' })).kind).toBe('in_sync');
    expect(w.writes).toHaveLength(1); // the second check changed nothing
    expect(w.hooks.records).toEqual(['web synced']);
    expect(await w.events()).toEqual([
      `debug ${LogEvent.reconcileSkip} web`,
      `debug ${LogEvent.reconcileSkip} web`,
    ]);
  });

  it('in sync at a new revision: the synced revision follows it', async () => {
    w.desire(REV, web);
    w.running(['app', 'sha256:app'], ['db', 'sha256:db']);
    await w.run({ stack: 'web' });
    w.clock.advance(1000);
    w.desire(REV2, web);
    await w.run({ stack: 'web' });
    expect(w.state.stack('web')?.synced).toEqual({
      revision: REV2,
      composeHash: 'sha256:stack-web',
      at: at(1000),
      // Found running, never applied by stackd: applied no later than when it was first found in sync.
      appliedAt: at(0),
    });
    expect(w.calls).toEqual([]);
  });

  it.each([
    ['paused', { enabled: false }, [], 'reconciliation disabled; not running'],
    [
      'self-heal off',
      { selfHeal: false },
      [['app', 'sha256:app']],
      'self-heal disabled; drift: db (no container)',
    ],
  ] as const)('%s: held out_of_sync with why, nothing run', async (_, settings, services, message) => {
    w.settings = { ...SETTINGS, ...settings };
    w.desire(REV, web);
    if (services.length > 0) w.running(...services.map(([n, h]): [string, string] => [n, h]));
    const outcome = await w.run({ stack: 'web' });
    expect(outcome.kind).toBe('held');
    expect(w.calls).toEqual([]);
    expect(w.writes).toHaveLength(1);
    expect(w.state.stack('web')).toMatchObject({ status: 'out_of_sync', message });
    expect(await w.events()).toEqual([`info ${LogEvent.reconcileSkip} web`]);
  });

  it('prune off: a stack gone from Git is held, not removed', async () => {
    w.settings = { ...SETTINGS, prune: false };
    w.desire(REV, desiredStack('other', { x: 'sha256:x' }));
    w.running(['app', 'sha256:app']);
    const outcome = await w.run({ stack: 'web' });
    expect(outcome.kind).toBe('held');
    expect(w.calls).toEqual([]);
    expect(w.state.stack('web')).toMatchObject({
      status: 'out_of_sync',
      project: 'web',
      message: 'not in the desired state; removal is disabled (reconcile.prune=false)',
      // Rebuilt from the labels: the state had nothing on it.
      synced: { revision: 'rev1', composeHash: 'sha256:old' },
    });
    expect(await w.events()).toEqual([`info ${LogEvent.reconcileSkip} web`]);
  });

  it('prune off: a manual sync with prune removes it this once; without force, prune is not widened', async () => {
    w.settings = { ...SETTINGS, prune: false };
    w.desire(REV, desiredStack('other', { x: 'sha256:x' }));
    w.running(['app', 'sha256:app']);
    expect((await w.run({ stack: 'web', prune: true })).kind).toBe('held'); // not forced: ignored
    expect(w.calls).toEqual([]);
    await w.run({ stack: 'web', force: true, prune: true });
    expect(w.calls.map((c) => c.op)).toEqual(['down']);
    expect(w.state.stack('web')?.history.at(-1)).toMatchObject({ action: 'remove', outcome: 'success' });
    expect(w.settings.prune).toBe(false); // the setting itself is untouched
  });

  it('an invalid desired stack fails terminally, logged once while the message stays', async () => {
    w.desire(
      REV,
      desiredStack('web', {}, { error: 'compose.yaml, line 3: invalid YAML', composeHash: null }),
    );
    expect((await failure(w.run({ stack: 'web' }))).name).toBe('TerminalError');
    expect((await failure(w.run({ stack: 'web' }))).name).toBe('TerminalError');
    expect(w.state.stack('web')).toMatchObject({
      status: 'failed',
      message: 'invalid desired stack: compose.yaml, line 3: invalid YAML',
    });
    expect(w.writes).toHaveLength(1);
    expect(await w.events()).toEqual([`warn ${LogEvent.reconcileFailure} web`]);
  });

  it('an unreachable engine fails the stack and is retried', async () => {
    w.desire(REV, web);
    w.engineUp = false;
    const error = await failure(w.run({ stack: 'web' }));
    expect(error.name).toBe('ReconcileError');
    expect(w.state.stack('web')).toMatchObject({
      status: 'failed',
      project: 'web',
      message: 'Docker engine unreachable: connect ENOENT /var/run/docker.sock',
    });
    expect(await w.events()).toEqual([`warn ${LogEvent.reconcileFailure} web`]);
  });

  it('no snapshot yet: nothing recorded', async () => {
    expect((await w.run({ stack: 'web' })).kind).toBe('noop');
    expect(w.writes).toEqual([]);
    expect(await w.logs()).toEqual([]);
  });
});

describe('dispatch: gone', () => {
  it('a stack neither desired nor running reads missing, then is forgotten at a later revision', async () => {
    w.desire(REV, desiredStack('web', { app: 'sha256:app' }));
    w.running(['app', 'sha256:app']);
    await w.run({ stack: 'web' });
    w.projects.clear();
    w.desire(REV, desiredStack('other', { x: 'sha256:x' }));
    expect((await w.run({ stack: 'web' })).kind).toBe('missing');
    expect(w.state.stack('web')).toMatchObject({
      status: 'missing',
      message: 'not in the desired state and not running',
      missingAt: REV,
    });
    expect((await w.run({ stack: 'web' })).kind).toBe('noop'); // same revision: still reported
    w.desire(REV2, desiredStack('other', { x: 'sha256:x' }));
    expect((await w.run({ stack: 'web' })).kind).toBe('forgotten');
    expect(w.state.stack('web')).toBeUndefined();
    const logs = await w.logs();
    expect(logs.map((l) => l['event'])).toEqual([LogEvent.reconcileSkip, LogEvent.stackForgotten]);
    expect(logs[1]).toMatchObject({
      level: 'info',
      stack: 'web',
      revision: REV2,
      reason: `missing since ${REV.slice(0, 12)}; record dropped`,
    });
    expect((await w.run({ stack: 'web' })).kind).toBe('noop'); // nothing left to record
    expect(w.writes.map((x) => x.record.status)).toEqual(['synced', 'missing']);
  });

  it('ids of other instances are left alone', async () => {
    w.desire(REV, web);
    w.projects.set('web', project('web', [container('web', 'app', { managedBy: 'elsewhere' })]));
    expect((await failure(w.run({ stack: 'web' }))).name).toBe('TerminalError');
    expect(w.state.stack('web')?.message).toBe(
      'project web is managed by stackd instance elsewhere; leaving it alone',
    );
    expect(w.calls).toEqual([]);
    expect(INSTANCE).not.toBe('elsewhere');
  });
});
