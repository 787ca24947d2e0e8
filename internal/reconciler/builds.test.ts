/** Builds: which services an apply builds before `up`, and what a failed build does to the stack. */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { ComposeError } from '../compose/errors.js';
import { LogEvent } from '../log/index.js';
import { servicesToBuild } from './builds.js';
import { INSTANCE, composeTimedOut, container, desiredStack, project } from './fixtures.test-helpers.js';
import { REV, REV2, type World, createWorld, failure } from './world.test-helpers.js';

const stack = desiredStack('web', {
  app: { hash: 'sha256:app', build: true },
  worker: { hash: 'sha256:worker', build: true },
  db: 'sha256:db',
});

describe('servicesToBuild', () => {
  it('builds every service with build: of a stack that does not run yet, none without', () => {
    expect(servicesToBuild(stack, undefined, INSTANCE)).toEqual(['app', 'worker']);
    expect(servicesToBuild(stack, project('web', []), INSTANCE)).toEqual(['app', 'worker']);
  });

  it('builds only the build: services whose hash differs from their containers’ label', () => {
    const observed = project('web', [
      container('web', 'app', { hash: 'sha256:OLD' }),
      container('web', 'worker', { hash: 'sha256:worker' }),
      container('web', 'db', { hash: 'sha256:OLD' }),
    ]);
    // db changed too, but has no build: `up` recreates it from its image.
    expect(servicesToBuild(stack, observed, INSTANCE)).toEqual(['app']);
  });

  it('builds nothing when every build: service runs its desired hash (stopped or not)', () => {
    const observed = project('web', [
      container('web', 'app', { hash: 'sha256:app', state: 'exited', exitCode: 137 }),
      container('web', 'worker', { hash: 'sha256:worker' }),
    ]);
    expect(servicesToBuild(stack, observed, INSTANCE)).toEqual([]);
  });

  it('builds a service with a replica at another hash, or only containers stackd did not create', () => {
    const observed = project('web', [
      container('web', 'app', { hash: 'sha256:app' }),
      container('web', 'app', { hash: 'sha256:OLD' }),
      container('web', 'worker', { managedBy: null }),
      container('web', 'worker', { managedBy: 'other-host', hash: 'sha256:worker' }),
    ]);
    expect(servicesToBuild(stack, observed, INSTANCE)).toEqual(['app', 'worker']);
  });

  it('sorts by name', () => {
    const many = desiredStack('m', {
      zeta: { build: true },
      alpha: { build: true },
      mid: { build: true },
    });
    expect(servicesToBuild(many, undefined, INSTANCE)).toEqual(['alpha', 'mid', 'zeta']);
  });
});

describe('apply: builds before up', () => {
  let w: World;
  beforeEach(async () => {
    w = await createWorld();
  });
  afterEach(async () => {
    await w.close();
  });

  it('builds the changed build: services, then ups; logs reconcile.build', async () => {
    w.desire(REV, stack);
    w.running(['app', 'sha256:OLD'], ['worker', 'sha256:worker'], ['db', 'sha256:db']);
    const outcome = await w.run({ stack: 'web' });
    expect(outcome.kind).toBe('applied');
    expect(w.calls.map((c) => [c.op, c.services ?? []])).toEqual([
      ['validate', []],
      ['build', ['app']],
      ['up', []],
    ]);
    expect(w.calls[1]?.target).toEqual(w.calls[2]?.target);
    const build = (await w.logs()).find((l) => l['event'] === LogEvent.reconcileBuild);
    expect(build).toMatchObject({ level: 'info', stack: 'web', services: ['app'], result: 'success' });
  });

  it('does not build when only a service without build: changed', async () => {
    w.desire(REV, stack);
    w.running(['app', 'sha256:app'], ['worker', 'sha256:worker'], ['db', 'sha256:OLD']);
    expect((await w.run({ stack: 'web' })).kind).toBe('applied');
    expect(w.calls.map((c) => c.op)).toEqual(['validate', 'up']);
  });

  it('a failed build fails the stack with the build output, held at this hash; nothing is upped', async () => {
    w.desire(REV, stack);
    w.running(['app', 'sha256:OLD'], ['worker', 'sha256:worker'], ['db', 'sha256:db']);
    w.failNext.set(
      'build',
      new ComposeError('docker compose build failed (exit 17): failed to solve: "/nope.txt" not found', {
        command: 'docker compose build -- app',
        exitCode: 17,
        stderrTail: 'failed to solve: "/nope.txt" not found',
        outputTail: '#6 [app 2/2] COPY nope.txt /x | #6 ERROR: "/nope.txt" not found: not found',
        timedOut: false,
        aborted: false,
      }),
    );
    const error = await failure(w.run({ stack: 'web' }));
    expect(error.name).toBe('TerminalError');
    expect(w.calls.map((c) => c.op)).toEqual(['validate', 'build']);
    const record = w.state.stack('web');
    expect(record?.status).toBe('failed');
    expect(record?.message).toBe(
      'building app failed: docker compose build failed (exit 17): failed to solve: "/nope.txt" not found; last build output: #6 [app 2/2] COPY nope.txt /x | #6 ERROR: "/nope.txt" not found: not found',
    );
    expect(record?.held).toMatchObject({ cause: 'build_failed', composeHash: 'sha256:stack-web' });
    const logs = await w.logs();
    expect(logs.find((l) => l['event'] === LogEvent.reconcileBuild)).toMatchObject({
      level: 'warn',
      result: 'failure',
    });
    expect(logs.find((l) => l['event'] === LogEvent.reconcileFailure)).toMatchObject({
      cause: 'build_failed',
      retry: false,
      stderr: 'failed to solve: "/nope.txt" not found',
    });

    // Held: the same hash is not built again; a new commit is.
    w.calls.length = 0;
    expect((await w.run({ stack: 'web' })).kind).toBe('held');
    expect(w.calls).toEqual([]);
    w.desire(
      REV2,
      desiredStack('web', { ...Object.fromEntries(stack.services) }, { composeHash: 'sha256:fixed' }),
    );
    expect((await w.run({ stack: 'web' })).kind).toBe('applied');
    expect(w.calls.map((c) => c.op)).toEqual(['validate', 'build', 'up']);
  });

  it('a build the registry could not serve is retried; one cut by the deadline is timed_out', async () => {
    w.desire(REV, stack);
    w.failNext.set(
      'build',
      new ComposeError(
        'docker compose build failed (exit 17): failed to solve: dial tcp: lookup registry: no such host',
        {
          command: 'docker compose build -- app worker',
          exitCode: 17,
          stderrTail: 'failed to solve: dial tcp: lookup registry: no such host',
          timedOut: false,
          aborted: false,
        },
      ),
    );
    const error = await failure(w.run({ stack: 'web' }));
    expect(error.name).not.toBe('TerminalError');
    expect(w.state.stack('web')).toMatchObject({ status: 'failed', held: null });
    expect(w.state.stack('web')?.message).toMatch(/^building app, worker failed: /);

    w.failNext.set('build', composeTimedOut());
    const timedOut = await failure(w.run({ stack: 'web' }));
    expect(timedOut.name).not.toBe('TerminalError');
    const logs = await w.logs();
    expect(logs.filter((l) => l['event'] === LogEvent.reconcileFailure).map((l) => l['cause'])).toEqual([
      'registry_unreachable',
      'timed_out',
    ]);
  });
});
