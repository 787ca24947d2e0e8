/** Removal, through dispatch: compose down with the tracked files; a failed down. */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { LogEvent } from '../log/index.js';
import { desiredStack } from './fixtures.test-helpers.js';
import { REV, type World, createWorld, failure } from './world.test-helpers.js';

let w: World;
beforeEach(async () => {
  w = await createWorld();
});
afterEach(async () => {
  await w.close();
});

describe('dispatch: remove', () => {
  it('takes down a stack gone from Git with the compose files Git put there', async () => {
    w.desire(REV, desiredStack('other', { x: 'sha256:x' }));
    w.running(['app', 'sha256:app']);
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
    expect(await w.events()).toEqual([
      `info ${LogEvent.reconcileStart} web`,
      `info ${LogEvent.reconcileSuccess} web`,
    ]);
  });

  it('a failed compose down records the removal failed', async () => {
    w.desire(REV, desiredStack('other', { x: 'sha256:x' }));
    w.running(['app', 'sha256:app']);
    w.failNext.set('down', new Error('engine said no'));
    const error = await failure(w.run({ stack: 'web' }));
    expect(error.message).toBe('removal failed: engine said no');
    expect(w.state.stack('web')).toMatchObject({
      status: 'failed',
      message: 'removal failed: engine said no',
      history: [{ action: 'remove', outcome: 'failure' }],
    });
    expect(await w.events()).toEqual([
      `info ${LogEvent.reconcileStart} web`,
      `error ${LogEvent.reconcileFailure} web`,
    ]);
  });
});
