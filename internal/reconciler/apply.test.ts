/** Apply, through dispatch: deploy, update, a desired state that moves meanwhile, compose failures. */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { ComposeError } from '../compose/errors.js';
import { LogEvent } from '../log/index.js';
import { desiredStack } from './fixtures.test-helpers.js';
import { REV, REV2, type World, at, createWorld, failure } from './world.test-helpers.js';

const web = desiredStack('web', { app: 'sha256:app', db: 'sha256:db' });

let w: World;
beforeEach(async () => {
  w = await createWorld();
});
afterEach(async () => {
  await w.close();
});

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
    expect(await w.events()).toEqual([
      `info ${LogEvent.reconcileStart} web`,
      `info ${LogEvent.reconcileSuccess} web`,
    ]);
    const [start, success] = await w.logs();
    expect(start).toMatchObject({ message: 'reconcile.start web: not running', action: 'deploy', ...target });
    expect(success).toMatchObject({ durationMs: 300, action: 'deploy', project: 'web', ...target });
  });

  it('updates a stack whose service hash changed', async () => {
    w.desire(REV, web);
    w.running(['app', 'sha256:OLD'], ['db', 'sha256:db']);
    const outcome = await w.run({ stack: 'web' });
    expect(outcome.kind).toBe('applied');
    expect(w.calls.map((c) => c.op)).toEqual(['validate', 'up']);
    const record = w.state.stack('web');
    expect(record?.status).toBe('synced');
    expect(record?.history[0]).toMatchObject({ action: 'update', outcome: 'success' });
    expect(record?.lastResult?.message).toMatch(/^changed: app \(service hash /);
    expect(await w.events()).toEqual([
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
    expect(await w.events()).toEqual([
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
