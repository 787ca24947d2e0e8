import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { FAKE_EPOCH_MS } from '../../pkg/clock/fake.js';
import { ComposeError } from '../compose/errors.js';
import { LogEvent } from '../log/index.js';
import { INSTANCE, container, desiredStack, project } from './fixtures.test-helpers.js';
import { SETTINGS, type World, createWorld } from './world.test-helpers.js';

const REV = 'a'.repeat(40);
const REV2 = 'b'.repeat(40);
const web = desiredStack('web', { app: 'sha256:app', db: 'sha256:db' });

/** The wall-clock time of the fake clock at `ms`. */
const at = (ms: number): string => new Date(FAKE_EPOCH_MS + ms).toISOString();

let w: World;
beforeEach(async () => {
  w = await createWorld();
});
afterEach(async () => {
  await w.close();
});

const running = (...services: [string, string][]): void => {
  w.projects.set(
    'web',
    project(
      'web',
      services.map(([name, hash]) => container('web', name, { hash })),
    ),
  );
};

/** Events of the log lines, in order. */
async function events(): Promise<string[]> {
  return (await w.logs()).map((l) => `${String(l['level'])} ${String(l['event'])} ${String(l['stack'])}`);
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the reconcile to fail');
}

describe('dispatch: apply', () => {
  it('deploys a stack that does not run, recording it once at the end (and syncing at the start)', async () => {
    w.desire(REV, web);
    const outcome = await w.run({ stack: 'web' });
    expect(outcome.kind).toBe('applied');
    expect(w.calls.map((c) => c.op)).toEqual(['validate', 'up']);
    expect(w.calls[1]?.target).toEqual({
      project: 'web',
      dir: `${w.dataDir}/work/web`,
      envFile: `${w.dataDir}/docker/empty.env`,
      files: [`${w.dataDir}/work/web/compose.yaml`, `${w.dataDir}/overrides/web.yaml`],
    });
    // Two writes: `syncing` while it runs, then the outcome with its history entry, once.
    expect(w.writes.map((x) => x.record.status)).toEqual(['syncing', 'synced']);
    const record = w.state.stack('web');
    const target = { revision: REV, composeHash: 'sha256:stack-web' };
    // Readiness wants two ready looks 300 ms apart: the apply took 300 ms of the fake clock.
    expect(record).toMatchObject({
      status: 'synced',
      message: '',
      synced: { ...target, at: at(300) },
      lastResult: { outcome: 'success', at: at(300), message: 'not running', durationMs: 300 },
      history: [{ ...target, outcome: 'success', action: 'deploy', message: 'not running', durationMs: 300 }],
    });
    expect(record?.services.map((s) => [s.name, s.inSync])).toEqual([
      ['app', true],
      ['db', true],
    ]);
    expect(w.hooks.records).toEqual(['web syncing', 'web synced']);
    expect(w.hooks.results).toEqual(['web success 300']);
    expect(await events()).toEqual([
      `info ${LogEvent.reconcileStart} web`,
      `info ${LogEvent.reconcileSuccess} web`,
    ]);
    const [start, success] = await w.logs();
    expect(start).toMatchObject({ message: 'reconcile.start web: not running', action: 'deploy', ...target });
    expect(success).toMatchObject({ durationMs: 300, action: 'deploy', project: 'web', ...target });
  });

  it('updates a stack whose service hash changed', async () => {
    w.desire(REV, web);
    running(['app', 'sha256:OLD'], ['db', 'sha256:db']);
    const outcome = await w.run({ stack: 'web' });
    expect(outcome.kind).toBe('applied');
    expect(w.calls.map((c) => c.op)).toEqual(['validate', 'up']);
    const record = w.state.stack('web');
    expect(record?.status).toBe('synced');
    expect(record?.history[0]).toMatchObject({ action: 'update', outcome: 'success' });
    expect(record?.lastResult?.message).toMatch(/^changed: app \(service hash /);
    expect(await events()).toEqual([
      `info ${LogEvent.reconcileStart} web`,
      `info ${LogEvent.reconcileSuccess} web`,
    ]);
  });

  it('ends out_of_sync when the desired state changed during the apply', async () => {
    w.desire(REV, web);
    const outcome = w.run({ stack: 'web' });
    w.desire(
      REV2,
      desiredStack('web', { app: 'sha256:app', db: 'sha256:db' }, { composeHash: 'sha256:newer' }),
    );
    await outcome;
    expect(w.state.stack('web')).toMatchObject({
      status: 'out_of_sync',
      message: 'queued: the desired state changed during the apply',
      synced: { revision: REV, composeHash: 'sha256:stack-web' },
    });
  });

  it('a failing compose up records the stack failed with why, once, and is retried', async () => {
    w.desire(REV, web);
    w.failNext.set(
      'up',
      new ComposeError('docker compose up failed: pull access denied', {
        command: 'docker compose up',
        exitCode: 1,
        stderrTail: 'pull access denied',
        timedOut: false,
        aborted: false,
      }),
    );
    const error = await failure(w.run({ stack: 'web' }));
    expect(error.name).toBe('ReconcileError');
    expect(error.message).toBe('docker compose up failed: pull access denied');
    expect(w.writes.map((x) => x.record.status)).toEqual(['syncing', 'failed']);
    expect(w.state.stack('web')).toMatchObject({
      status: 'failed',
      message: 'docker compose up failed: pull access denied',
      synced: null,
      lastResult: { outcome: 'failure', message: 'docker compose up failed: pull access denied' },
      history: [{ action: 'deploy', outcome: 'failure', revision: REV }],
    });
    expect(w.hooks.results).toEqual(['web failure 0']);
    expect(await events()).toEqual([
      `info ${LogEvent.reconcileStart} web`,
      `error ${LogEvent.reconcileFailure} web`,
    ]);
    expect((await w.logs())[1]).toMatchObject({ reason: 'docker compose up failed: pull access denied' });
  });

  it('compose rejecting the files is terminal; a validate that timed out is not', async () => {
    w.desire(REV, web);
    const details = { command: 'docker compose config -q', exitCode: 1, stderrTail: '', aborted: false };
    w.failNext.set(
      'validate',
      new ComposeError('services.app.image: invalid', { ...details, timedOut: false }),
    );
    const rejected = await failure(w.run({ stack: 'web' }));
    expect(rejected.name).toBe('TerminalError');
    expect(w.state.stack('web')?.message).toBe('compose rejected the stack: services.app.image: invalid');
    expect(w.calls.map((c) => c.op)).toEqual(['validate']);

    w.failNext.set('validate', new ComposeError('timed out', { ...details, exitCode: null, timedOut: true }));
    const slow = await failure(w.run({ stack: 'web' }));
    expect(slow.name).toBe('ReconcileError');
    expect(w.state.stack('web')?.message).toBe('timed out');
  });
});

describe('dispatch: skip', () => {
  it('in sync: records synced without touching the runtime, and writes nothing when nothing changed', async () => {
    w.desire(REV, web);
    running(['app', 'sha256:app'], ['db', 'sha256:db']);
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
    expect(await events()).toEqual([
      `debug ${LogEvent.reconcileSkip} web`,
      `debug ${LogEvent.reconcileSkip} web`,
    ]);
  });

  it('in sync at a new revision: the synced revision follows it', async () => {
    w.desire(REV, web);
    running(['app', 'sha256:app'], ['db', 'sha256:db']);
    await w.run({ stack: 'web' });
    w.clock.advance(1000);
    w.desire(REV2, web);
    await w.run({ stack: 'web' });
    expect(w.state.stack('web')?.synced).toEqual({
      revision: REV2,
      composeHash: 'sha256:stack-web',
      at: at(1000),
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
    if (services.length > 0) running(...services.map(([n, h]): [string, string] => [n, h]));
    const outcome = await w.run({ stack: 'web' });
    expect(outcome.kind).toBe('held');
    expect(w.calls).toEqual([]);
    expect(w.writes).toHaveLength(1);
    expect(w.state.stack('web')).toMatchObject({ status: 'out_of_sync', message });
    expect(await events()).toEqual([`info ${LogEvent.reconcileSkip} web`]);
  });

  it('prune off: a stack gone from Git is held, not removed', async () => {
    w.settings = { ...SETTINGS, prune: false };
    w.desire(REV, desiredStack('other', { x: 'sha256:x' }));
    running(['app', 'sha256:app']);
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
    expect(await events()).toEqual([`info ${LogEvent.reconcileSkip} web`]);
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
    expect(await events()).toEqual([`warn ${LogEvent.reconcileFailure} web`]);
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
    expect(await events()).toEqual([`warn ${LogEvent.reconcileFailure} web`]);
  });

  it('no snapshot yet: nothing recorded', async () => {
    expect((await w.run({ stack: 'web' })).kind).toBe('noop');
    expect(w.writes).toEqual([]);
    expect(await w.logs()).toEqual([]);
  });
});

describe('dispatch: remove', () => {
  it('takes down a stack gone from Git with the compose files Git put there', async () => {
    w.desire(REV, desiredStack('other', { x: 'sha256:x' }));
    running(['app', 'sha256:app']);
    const outcome = await w.run({ stack: 'web' });
    expect(outcome.kind).toBe('removed');
    expect(w.calls).toEqual([
      {
        op: 'down',
        target: {
          project: 'web',
          dir: `${w.dataDir}/work/web`,
          files: [`${w.dataDir}/work/web/compose.yaml`],
          envFile: `${w.dataDir}/docker/empty.env`,
        },
      },
    ]);
    expect(w.writes.map((x) => x.record.status)).toEqual(['syncing', 'missing']);
    expect(w.state.stack('web')).toMatchObject({
      status: 'missing',
      message: 'removed: not in the desired state',
      services: [],
      missingAt: REV,
      lastResult: { outcome: 'success', message: 'removed', durationMs: 0 },
      history: [{ action: 'remove', outcome: 'success', revision: null, composeHash: null }],
    });
    expect(w.hooks.results).toEqual(['web success 0']);
    expect(await events()).toEqual([
      `info ${LogEvent.reconcileStart} web`,
      `info ${LogEvent.reconcileSuccess} web`,
    ]);
  });

  it('a failed compose down records the removal failed', async () => {
    w.desire(REV, desiredStack('other', { x: 'sha256:x' }));
    running(['app', 'sha256:app']);
    w.failNext.set('down', new Error('engine said no'));
    const error = await failure(w.run({ stack: 'web' }));
    expect(error.message).toBe('removal failed: engine said no');
    expect(w.state.stack('web')).toMatchObject({
      status: 'failed',
      message: 'removal failed: engine said no',
      history: [{ action: 'remove', outcome: 'failure' }],
    });
    expect(await events()).toEqual([
      `info ${LogEvent.reconcileStart} web`,
      `error ${LogEvent.reconcileFailure} web`,
    ]);
  });
});

describe('dispatch: rename takedown', () => {
  it('takes the old project down right before the renamed one comes up', async () => {
    w.desire(REV, desiredStack('web', { app: 'sha256:app' }, { project: 'web2' }));
    running(['app', 'sha256:app']); // project `web`, labelled as stack web
    const outcome = await w.run({ stack: 'web' });
    expect(outcome.kind).toBe('applied');
    expect(w.calls.map((c) => `${c.op} ${c.target.project}`)).toEqual([
      'validate web2',
      'down web',
      'up web2',
    ]);
    // The old project goes down with the stack's own files, without the new label override.
    expect(w.calls[1]?.target.files).toEqual([`${w.dataDir}/work/web/compose.yaml`]);
    expect(w.projects.has('web')).toBe(false);
    expect(w.state.stack('web')).toMatchObject({
      project: 'web2',
      status: 'synced',
      history: [{ action: 'deploy', outcome: 'success' }],
    });
    expect(w.state.stack('web')?.lastResult?.message).toBe(
      'project renamed from web: removing it, then not running',
    );
    expect((await w.logs()).map((l) => `${String(l['event'])} ${String(l['project'])}`)).toEqual([
      `${LogEvent.reconcileStart} web2`,
      `${LogEvent.reconcileStart} web`,
      `${LogEvent.reconcileSuccess} web`,
      `${LogEvent.reconcileSuccess} web2`,
    ]);
    expect(w.hooks.results).toHaveLength(1);
  });
});

describe('dispatch: gone', () => {
  it('a stack neither desired nor running reads missing, then is forgotten at a later revision', async () => {
    w.desire(REV, desiredStack('web', { app: 'sha256:app' }));
    running(['app', 'sha256:app']);
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
