import { describe, expect, it } from '@jest/globals';
import { FakeClock } from '../../pkg/clock/fake.js';
import { container, desiredStack, project } from './fixtures.test-helpers.js';
import type { ObservedContainer } from '../informer/types.js';
import { type Readiness, assess, waitReady } from './readiness.js';

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
      minReadyMs: 0,
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

describe('waitReady with reconcile.minReady', () => {
  const stack = desiredStack('r', {
    app: 'sha256:a',
    hc: { hash: 'sha256:h', healthcheck: true },
    job: { hash: 'sha256:j', oneShot: true },
  });
  type Scene = (nowMs: number) => ObservedContainer[];
  /** Runs one wait over a scene of the fake clock's time; answers the result and when it came. */
  async function wait(scene: Scene, minReadyMs = 5000): Promise<{ result: Readiness; atMs: number }> {
    const clock = new FakeClock();
    const start = clock.date().getTime();
    const done = { settled: false };
    const running = waitReady(stack, {
      observe: () =>
        Promise.resolve(
          project(
            'r',
            scene(clock.now()).map((c) => ({ ...c, startedAt: start + (c.startedAt ?? 0) })),
          ),
        ),
      deadline: 60_000,
      clock,
      minReadyMs,
    }).finally(() => {
      done.settled = true;
    });
    while (!done.settled) await clock.advanceAsync(100);
    return { result: await running, atMs: clock.now() };
  }
  const up = (service: string, fields: Partial<ObservedContainer> = {}): ObservedContainer =>
    container('r', service, { id: service, restartCount: 0, startedAt: 0, ...fields });
  const job = up('job', { state: 'exited', exitCode: 0 });

  it('is ready once every container has run for minReady; healthy counts at once; a one-shot that exited 0 is done', async () => {
    const { result, atMs } = await wait(() => [up('app'), up('hc', { health: 'healthy' }), job]);
    expect(result).toEqual({ ok: true });
    expect(atMs).toBeGreaterThanOrEqual(5000);
    expect(atMs).toBeLessThan(5400);
  });

  it('a container running since long before the apply (not recreated) is ready at the first look', async () => {
    const { result, atMs } = await wait(() => [
      up('app', { startedAt: -60_000 }),
      up('hc', { health: 'healthy' }),
      job,
    ]);
    expect(result).toEqual({ ok: true });
    expect(atMs).toBeLessThan(400);
  });

  it('fails a container that exits after 2 s, naming the service and its exit code', async () => {
    const { result, atMs } = await wait((now) => [
      now < 2000 ? up('app') : up('app', { state: 'exited', exitCode: 3 }),
      up('hc', { health: 'healthy' }),
      job,
    ]);
    expect(result).toEqual({
      ok: false,
      container: 'app',
      message: 'service app exited with code 3 (a service that may exit must say restart: "no")',
    });
    expect(atMs).toBeLessThan(2500);
  });

  it('fails a container the engine restarts (restart: always crashing every second), even when every look finds it running', async () => {
    const { result } = await wait((now) => [
      up('app', { restartCount: Math.floor(now / 1000), startedAt: Math.floor(now / 1000) * 1000 }),
      up('hc', { health: 'healthy' }),
      job,
    ]);
    expect(result).toMatchObject({
      ok: false,
      container: 'app',
      message: expect.stringContaining('service app restarted 1 time') as unknown as string,
    });
  });

  it('fails an unhealthy container; waits for one whose healthcheck is still starting', async () => {
    const { result, atMs } = await wait((now) => [
      up('app', { startedAt: -60_000 }),
      up('hc', { health: now < 3000 ? 'starting' : 'unhealthy' }),
      job,
    ]);
    expect(result).toEqual({ ok: false, container: 'hc', message: 'service hc is unhealthy' });
    expect(atMs).toBeGreaterThanOrEqual(3000);
  });

  it('a one-shot that exits non-zero fails', async () => {
    const { result } = await wait(() => [
      up('app', { startedAt: -60_000 }),
      up('hc', { health: 'healthy' }),
      up('job', { state: 'exited', exitCode: 2 }),
    ]);
    expect(result).toMatchObject({ ok: false, message: 'service job exited with code 2' });
  });

  it('says how long a container has run when the timeout comes first', async () => {
    const clock = new FakeClock();
    const start = clock.date().getTime();
    const running = waitReady(stack, {
      observe: () =>
        Promise.resolve(
          project('r', [up('app', { startedAt: start }), up('hc', { health: 'healthy' }), job]),
        ),
      deadline: 2000,
      clock,
      minReadyMs: 5000,
    });
    await clock.advanceAsync(3000);
    expect(await running).toMatchObject({
      ok: false,
      message: expect.stringMatching(
        /^timed out waiting for app \(running 1\.\ds of reconcile\.minReady 5s\)$/,
      ) as unknown as string,
    });
  });
});
