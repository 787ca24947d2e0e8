import { describe, expect, it } from '@jest/globals';
import { FakeClock } from '../../pkg/clock/fake.js';
import { container, desiredStack, project } from './fixtures.test-helpers.js';
import { assess, waitReady } from './readiness.js';

describe('readiness', () => {
  const stack = desiredStack('web', { app: 'sha256:a', hc: { hash: 'sha256:h', healthcheck: true } });
  it.each([
    [
      'all running',
      [
        ['app', 'running', null, null],
        ['hc', 'running', 'healthy', null],
      ],
      'ready',
    ],
    [
      'health starting',
      [
        ['app', 'running', null, null],
        ['hc', 'running', 'starting', null],
      ],
      'pending',
    ],
    [
      'unhealthy',
      [
        ['app', 'running', null, null],
        ['hc', 'running', 'unhealthy', null],
      ],
      'failed',
    ],
    [
      'exited 1',
      [
        ['app', 'exited', null, 1],
        ['hc', 'running', 'healthy', null],
      ],
      'failed',
    ],
    [
      'restarting',
      [
        ['app', 'restarting', null, 1],
        ['hc', 'running', 'healthy', null],
      ],
      'failed',
    ],
    [
      'created',
      [
        ['app', 'created', null, null],
        ['hc', 'running', 'healthy', null],
      ],
      'pending',
    ],
    ['missing', [['app', 'running', null, null]], 'pending'],
  ] as const)('%s', (_name, rows, expected) => {
    const obs = project(
      'web',
      rows.map(([service, state, health, exitCode]) =>
        container('web', service, { state, health, exitCode }),
      ),
    );
    const look = assess(stack, obs);
    expect(look === 'ready' ? 'ready' : 'pending' in look ? 'pending' : 'failed').toBe(expected);
  });
});

describe('assess with replicas', () => {
  it('waits until every replica has a container', () => {
    const stack = desiredStack('r', { app: { hash: 'sha256:a', replicas: 2 } });
    expect(assess(stack, project('r', [container('r', 'app')]))).toEqual({
      pending: 'app (1 of 2 containers)',
      missing: [],
    });
    expect(assess(stack, project('r', [container('r', 'app'), container('r', 'app')]))).toBe('ready');
  });

  it('fails fast when compose made no container for a service, instead of waiting for the timeout', async () => {
    const stack = desiredStack('r', { app: { hash: 'sha256:a', replicas: null }, db: 'sha256:d' });
    const clock = new FakeClock();
    const looks: number[] = [];
    const ready = waitReady(stack, {
      observe: () => {
        looks.push(clock.now());
        return Promise.resolve(project('r', [container('r', 'db', { state: 'created' })]));
      },
      deadline: 180_000,
      clock,
    });
    await clock.advanceAsync(1000);
    const result = await ready;
    expect(result).toEqual({
      ok: false,
      message: expect.stringContaining('compose created no container for app') as unknown as string,
    });
    expect(looks).toEqual([0, 300]);
  });
});
