/** Rename takedown, through dispatch: the old project goes right before the new one comes up. */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { LogEvent } from '../log/index.js';
import { desiredStack } from './fixtures.test-helpers.js';
import { REV, type World, createWorld } from './world.test-helpers.js';

let w: World;
beforeEach(async () => {
  w = await createWorld();
});
afterEach(async () => {
  await w.close();
});

describe('dispatch: rename takedown', () => {
  it('takes the old project down right before the renamed one comes up', async () => {
    w.desire(REV, desiredStack('web', { app: 'sha256:app' }, { project: 'web2' }));
    w.running(['app', 'sha256:app']); // project `web`, labelled as stack web
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
