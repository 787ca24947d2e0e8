import { describe, expect, it } from '@jest/globals';
import { INSTANCE, container, desiredStack, project } from './fixtures.test-helpers.js';
import { planDesired } from './plan.js';

describe('planDesired', () => {
  const stack = desiredStack('web', { app: 'sha256:a', db: 'sha256:d' });
  const ctx = { instance: INSTANCE };

  it('is in sync when every service runs with its desired hash', () => {
    const obs = project('web', [
      container('web', 'app', { hash: 'sha256:a' }),
      container('web', 'db', { hash: 'sha256:d' }),
    ]);
    expect(planDesired(stack, obs, ctx)).toMatchObject({ action: 'none', services: [] });
  });

  it('deploys a stack with no containers', () => {
    expect(planDesired(stack, undefined, ctx)).toMatchObject({ action: 'deploy', driftOnly: false });
  });

  it('recreates only the service whose hash changed', () => {
    const obs = project('web', [
      container('web', 'app', { hash: 'sha256:OLD' }),
      container('web', 'db', { hash: 'sha256:d' }),
    ]);
    const plan = planDesired(stack, obs, ctx);
    expect(plan.action).toBe('update');
    expect(plan.driftOnly).toBe(false);
    expect(plan.services).toEqual([
      { name: 'app', change: 'recreate', why: expect.stringContaining('service hash') },
    ]);
  });

  it('treats missing labels and another instance as out of sync', () => {
    const obs = project('web', [
      container('web', 'app', { managedBy: null }),
      container('web', 'db', { hash: 'sha256:d', managedBy: 'other' }),
    ]);
    const plan = planDesired(stack, obs, ctx);
    expect(plan.services.map((s) => [s.name, s.why])).toEqual([
      ['app', 'no stackd labels'],
      ['db', 'managed by instance other'],
    ]);
  });

  it('calls a stopped or removed container drift', () => {
    const obs = project('web', [
      container('web', 'app', { hash: 'sha256:a', state: 'exited', exitCode: 137 }),
    ]);
    const plan = planDesired(stack, obs, ctx);
    expect(plan.driftOnly).toBe(true);
    expect(plan.services).toEqual([
      { name: 'app', change: 'start', why: 'drift (exited 137)' },
      { name: 'db', change: 'create', why: 'drift (no container)' },
    ]);
  });

  it('accepts a one-shot service that exited 0, not one that exited 1', () => {
    const oneShot = desiredStack('job', { run: { hash: 'sha256:r', oneShot: true } });
    const ok = project('job', [container('job', 'run', { hash: 'sha256:r', state: 'exited', exitCode: 0 })]);
    const bad = project('job', [container('job', 'run', { hash: 'sha256:r', state: 'exited', exitCode: 1 })]);
    expect(planDesired(oneShot, ok, ctx).action).toBe('none');
    expect(planDesired(oneShot, bad, ctx).action).toBe('update');
  });

  it('counts replicas: fewer or more containers than wanted is drift; an unknown count wants one', () => {
    const scaled = desiredStack('s', { app: { hash: 'sha256:a', replicas: 3 } });
    const two = project('s', [
      container('s', 'app', { hash: 'sha256:a' }),
      container('s', 'app', { hash: 'sha256:a' }),
    ]);
    expect(planDesired(scaled, two, ctx)).toMatchObject({
      action: 'update',
      driftOnly: true,
      services: [{ name: 'app', change: 'create', why: 'drift (2 containers, 3 wanted)' }],
    });
    const four = project(
      's',
      [1, 2, 3, 4].map(() => container('s', 'app', { hash: 'sha256:a' })),
    );
    expect(planDesired(scaled, four, ctx).services).toEqual([
      { name: 'app', change: 'remove', why: 'drift (4 containers, 3 wanted)' },
    ]);
    const three = project(
      's',
      [1, 2, 3].map(() => container('s', 'app', { hash: 'sha256:a' })),
    );
    expect(planDesired(scaled, three, ctx).action).toBe('none');
    const unknown = desiredStack('s', { app: { hash: 'sha256:a', replicas: null } });
    expect(planDesired(unknown, two, ctx).action).toBe('none');
    expect(planDesired(unknown, project('s', []), ctx).action).toBe('deploy');
  });

  it('removes orphan services', () => {
    const obs = project('web', [
      container('web', 'app', { hash: 'sha256:a' }),
      container('web', 'db', { hash: 'sha256:d' }),
      container('web', 'old', {}),
    ]);
    expect(planDesired(stack, obs, ctx).services).toEqual([
      { name: 'old', change: 'remove', why: 'gone (not in the desired stack)' },
    ]);
  });
});
