/** Apply, through dispatch: deploy, update, a desired state that moves meanwhile, compose failures. */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { ComposeError } from '../compose/errors.js';
import { LogEvent } from '../log/index.js';
import { composeExited, desiredStack } from './fixtures.test-helpers.js';
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

  it('records when it applied: a later commit that changes nothing here moves synced.at, not appliedAt', async () => {
    w.desire(REV, web);
    await w.run({ stack: 'web' });
    expect(w.state.stack('web')?.synced).toMatchObject({ at: at(300), appliedAt: at(300) });
    w.clock.advance(60_000);
    w.desire(REV2, web);
    expect((await w.run({ stack: 'web' })).kind).toBe('in_sync');
    expect(w.state.stack('web')?.synced).toEqual({
      revision: REV2,
      composeHash: 'sha256:stack-web',
      at: at(60_300),
      appliedAt: at(300),
    });
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

  const upFailed = (stderr: string): ComposeError => composeExited(stderr);

  it('a compose up failing for a transient cause records the stack failed with why, once, and is retried', async () => {
    w.desire(REV, web);
    const why = 'Get "https://registry.example/v2/": dial tcp: lookup registry.example: no such host';
    w.failNext.set('up', upFailed(why));
    const error = await failure(w.run({ stack: 'web' }));
    expect(error.name).toBe('ReconcileError');
    expect(error.message).toBe(`docker compose up failed: ${why}`);
    expect(w.writes.map((x) => x.record.status)).toEqual(['syncing', 'failed']);
    expect(w.state.stack('web')).toMatchObject({
      status: 'failed',
      message: `docker compose up failed: ${why}`,
      synced: null,
      lastResult: { outcome: 'failure', message: `docker compose up failed: ${why}` },
      history: [{ action: 'deploy', outcome: 'failure', revision: REV }],
    });
    expect(w.state.stack('web')?.held).toBeNull();
    expect(w.hooks.results).toEqual(['web failure 0']);
    expect(await w.events()).toEqual([
      `info ${LogEvent.reconcileStart} web`,
      `error ${LogEvent.reconcileFailure} web`,
    ]);
    expect((await w.logs())[1]).toMatchObject({
      reason: `docker compose up failed: ${why}`,
      cause: 'registry_unreachable',
      retry: true,
    });
    // The retry (the queue's backoff) applies again.
    await w.run({ stack: 'web' });
    expect(w.state.stack('web')?.status).toBe('synced');
  });

  it('a compose up failing for a deterministic cause is held at that hash: not applied again until the hash changes or a manual sync', async () => {
    w.desire(REV, web);
    w.failNext.set(
      'up',
      upFailed('Error response from daemon: pull access denied for app, repository does not exist'),
    );
    const error = await failure(w.run({ stack: 'web' }));
    expect(error.name).toBe('TerminalError');
    expect(w.state.stack('web')?.held).toMatchObject({ revision: REV, cause: 'image_missing' });
    const calls = w.calls.length;
    // An event, a resync, a commit that leaves the stack alone: nothing runs, still failed.
    expect((await w.run({ stack: 'web' })).kind).toBe('held');
    w.desire(REV2, web);
    expect((await w.run({ stack: 'web' })).kind).toBe('held');
    expect(w.calls).toHaveLength(calls);
    expect(w.state.stack('web')).toMatchObject({ status: 'failed', message: error.message });
    // A manual sync retries, and success clears the hold.
    await w.run({ stack: 'web', force: true });
    expect(w.state.stack('web')).toMatchObject({ status: 'synced', held: null });
  });

  it('a new commit that changes the stack retries a held failure', async () => {
    w.desire(REV, web);
    w.failNext.set('up', upFailed('Bind for 0.0.0.0:8080 failed: port is already allocated'));
    await failure(w.run({ stack: 'web' }));
    expect(w.state.stack('web')?.held).toMatchObject({ cause: 'port_in_use' });
    w.desire(
      REV2,
      desiredStack('web', { app: 'sha256:app2', db: 'sha256:db' }, { composeHash: 'sha256:two' }),
    );
    expect((await w.run({ stack: 'web' })).kind).toBe('applied');
    expect(w.state.stack('web')).toMatchObject({ status: 'synced', held: null });
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

    // Held: a plain run does not validate again; a manual sync does.
    await w.run({ stack: 'web' });
    expect(w.calls.map((c) => c.op)).toEqual(['validate']);
    w.failNext.set('validate', new ComposeError('timed out', { ...details, exitCode: null, timedOut: true }));
    const slow = await failure(w.run({ stack: 'web', force: true }));
    expect(slow.name).toBe('ReconcileError');
    expect(w.state.stack('web')?.message).toBe('timed out');
  });

  it("a failure's journal line has compose's stderr tail, .env values redacted; the record keeps the message, redacted too", async () => {
    w.desire(REV, web);
    w.env = Buffer.from('# tracked\nDB_PASSWORD="s3cret-pass"\nexport API_KEY=key-12345\n');
    const stderr = [
      ' Container web-app-1  Creating',
      'Error response from daemon: invalid mount config: s3cret-pass',
      ' Container web-db-1  Created',
      'key-12345 is not a valid thing',
    ].join('\n');
    w.failNext.set('up', composeExited(stderr));
    await failure(w.run({ stack: 'web' }));
    // The record has the message alone (the fixture's: compose's last line), never the tail;
    // compose quoting a `.env` value (v2: `Invalid containerPort: <PORT>`) shows *** there too.
    expect(w.state.stack('web')?.message).toBe('docker compose up failed: *** is not a valid thing');
    const line = (await w.logs()).find((l) => l['event'] === LogEvent.reconcileFailure);
    expect(line?.['stderr']).toBe(
      [
        ' Container web-app-1  Creating',
        'Error response from daemon: invalid mount config: ***',
        ' Container web-db-1  Created',
        '*** is not a valid thing',
      ].join('\n'),
    );
    expect(JSON.stringify(await w.logs())).not.toMatch(/s3cret-pass|key-12345/);
  });

  it('a rejected validate logs the tail too (through the TerminalReconcileError); a failure without compose has none', async () => {
    w.desire(REV, web);
    w.failNext.set('validate', composeExited('yaml: line 3: did not find expected key', 'config'));
    await failure(w.run({ stack: 'web' }));
    w.failNext.set('up', new Error('not compose'));
    await failure(w.run({ stack: 'web', force: true }));
    const failures = (await w.logs()).filter((l) => l['event'] === LogEvent.reconcileFailure);
    expect(failures.map((l) => l['stderr'])).toEqual(['yaml: line 3: did not find expected key', undefined]);
  });
});
