import { describe, expect, it } from '@jest/globals';
import { FakeClock } from '../../pkg/clock/fake.js';
import type { Observation, ObservedContainer } from '../informer/types.js';
import { watchStarts } from './engine_watch.js';

function container(id: string, state: string, created: number, service = 's'): ObservedContainer {
  return {
    id,
    name: `p-${id}`,
    project: 'p',
    service,
    state,
    exitCode: null,
    health: null,
    labels: {},
    image: 'i',
    created,
  };
}

/** The shared fake clock, started at `start`. */
function clock(start: number): FakeClock {
  return new FakeClock(start);
}

function informer(containers: () => ObservedContainer[]) {
  return {
    current: (): Observation => ({
      up: true,
      stale: false,
      at: new Date(),
      error: null,
      projects: new Map([['p', { project: 'p', containers: containers() }]]),
    }),
  };
}

/** watchStarts on project `p` with an 8 s bound, the fake clock, stalls collected. */
function watch(c: FakeClock, list: () => ObservedContainer[], stalls: string[]) {
  return watchStarts({
    informer: informer(list),
    project: 'p',
    boundMs: 8000,
    clock: c,
    onStall: (r) => stalls.push(r),
  });
}

describe('watchStarts', () => {
  const since = 1_700_000_000_000;

  it('a container of this apply left created for the bound: stalled, once, naming it', async () => {
    const c = clock(since);
    const stalls: string[] = [];
    let list: ObservedContainer[] = [container('old', 'running', since / 1000)];
    const watching = watch(c, () => list, stalls);
    await c.advanceAsync(2000);
    list = [container('new', 'created', since / 1000 + 1)];
    await c.advanceAsync(7000);
    expect(stalls).toEqual([]);
    await c.advanceAsync(2000);
    expect(stalls).toEqual([
      'the Docker engine has started no container for 8 s (p-new created, not started)',
    ]);
    await c.advanceAsync(20_000);
    expect(stalls).toHaveLength(1);
    watching.stop();
  });

  it('a container left created by an earlier attempt is watched too', async () => {
    const c = clock(since);
    const stalls: string[] = [];
    const list = [
      container('left', 'created', since / 1000 - 60),
      container('old', 'running', since / 1000, 'db'),
    ];
    watch(c, () => list, stalls);
    await c.advanceAsync(9000);
    expect(stalls).toEqual([
      'the Docker engine has started no container for 8 s (p-left created, not started)',
    ]);
  });

  it('a container of this apply that starts ends the watch; containers running before do not count', async () => {
    const c = clock(since);
    const stalls: string[] = [];
    let list = [container('old', 'running', since / 1000)];
    watch(c, () => list, stalls);
    list = [container('a', 'created', since / 1000), container('old', 'exited', since / 1000)];
    await c.advanceAsync(3000);
    list = [container('a', 'running', since / 1000), container('b', 'created', since / 1000)];
    await c.advanceAsync(20_000);
    expect(stalls).toEqual([]);
  });

  it('a replacement waiting while the old container of its service still stops is not a stall', async () => {
    const c = clock(since);
    const stalls: string[] = [];
    let list = [container('old', 'running', since / 1000 - 60)];
    watch(c, () => list, stalls);
    list = [container('new', 'created', since / 1000), container('old', 'running', since / 1000 - 60)];
    await c.advanceAsync(30_000); // a 30 s stop_grace_period
    expect(stalls).toEqual([]);
    list = [container('new', 'created', since / 1000)]; // old stopped and removed; the start hangs
    await c.advanceAsync(7000);
    expect(stalls).toEqual([]);
    await c.advanceAsync(2000);
    expect(stalls).toEqual([
      'the Docker engine has started no container for 8 s (p-new created, not started)',
    ]);
  });

  it('stop() ends it before the bound', async () => {
    const c = clock(since);
    const stalls: string[] = [];
    const watching = watch(c, () => [container('a', 'created', since / 1000)], stalls);
    await c.advanceAsync(5000);
    watching.stop();
    await c.advanceAsync(20_000);
    expect(stalls).toEqual([]);
  });
});
