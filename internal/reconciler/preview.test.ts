import { describe, expect, it } from '@jest/globals';
import type { Observation } from '../informer/types.js';
import type { Snapshot } from '../source/types.js';
import type { HeldFailure } from '../status/index.js';
import { decide, type DecisionSettings } from './decide.js';
import { INSTANCE, container, desiredStack, project } from './fixtures.test-helpers.js';
import { preview } from './preview.js';
import { stackRecord } from '../state/record.test-helpers.js';

const ON: DecisionSettings = { enabled: true, prune: true, allowEmpty: false, selfHeal: true };

describe('a held failure (one attempt per commit)', () => {
  const stack = desiredStack('web', { app: 'sha256:a2' }, { composeHash: 'sha256:two' });
  const exited = project('web', [
    container('web', 'app', { hash: 'sha256:a2', state: 'exited', exitCode: 1 }),
  ]);
  const snapshot: Snapshot = { revision: 'r2', fetchedAt: new Date(0), stacks: new Map([['web', stack]]) };
  const observation: Observation = {
    up: true,
    stale: false,
    at: new Date(0),
    error: null,
    projects: new Map([['web', exited]]),
  };
  const held: HeldFailure = {
    revision: 'r2',
    composeHash: 'sha256:two',
    cause: 'not_ready',
    message: 'service app exited with code 1',
  };
  const base = { desired: stack, observed: exited, desiredEmpty: false, settings: ON, instance: INSTANCE };

  it('holds the hash that failed, unless forced; another hash is applied', () => {
    expect(decide({ ...base, force: false, held })).toMatchObject({
      kind: 'held_failure',
      message: held.message,
    });
    expect(decide({ ...base, force: true, held }).kind).toBe('apply');
    expect(decide({ ...base, force: false, held: { ...held, composeHash: 'sha256:one' } }).kind).toBe(
      'apply',
    );
    expect(decide({ ...base, force: false, held: null }).kind).toBe('apply');
  });

  it('a look that finds the held hash running does not make it synced (a restart policy brings a crashing container back); a manual sync does', () => {
    const running = project('web', [container('web', 'app', { hash: 'sha256:a2' })]);
    expect(decide({ ...base, observed: running, force: false, held }).kind).toBe('held_failure');
    expect(decide({ ...base, observed: running, force: true, held }).kind).toBe('apply');
    expect(decide({ ...base, observed: running, force: false, held: null }).kind).toBe('in_sync');
  });

  it('`stackd plan` shows it as skip, with the reason and how to retry', () => {
    expect(preview('web', snapshot, observation, ON, INSTANCE, stackRecord({ held }))).toMatchObject({
      action: 'skip',
      reason:
        'failed at this commit, not retried until a new commit or stackd sync web: service app exited with code 1',
    });
    expect(preview('web', snapshot, observation, ON, INSTANCE).action).toBe('update');
  });
});
