import { describe, expect, it } from '@jest/globals';
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

/** A fake clock whose sleep resolves when the test advances time past it. */
function clock(start: number) {
  let now = start;
  const waiting: { at: number; resolve: () => void }[] = [];
  return {
    now: () => now,
    sleep: (ms: number) => new Promise<void>((resolve) => waiting.push({ at: now + ms, resolve })),
    async advance(ms: number) {
      const end = now + ms;
      while (now < end) {
        now = Math.min(end, now + 100);
        for (const w of waiting.splice(0)) {
          if (w.at <= now) w.resolve();
          else waiting.push(w);
        }
        await new Promise((r) => setImmediate(r));
      }
    },
  };
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
function watch(c: ReturnType<typeof clock>, list: () => ObservedContainer[], stalls: string[]) {
  return watchStarts({
    informer: informer(list),
    project: 'p',
    boundMs: 8000,
    now: c.now,
    sleep: c.sleep,
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
    await c.advance(2000);
    list = [container('new', 'created', since / 1000 + 1)];
    await c.advance(7000);
    expect(stalls).toEqual([]);
    await c.advance(2000);
    expect(stalls).toEqual([
      'the Docker engine has started no container for 8 s (p-new created, not started)',
    ]);
    await c.advance(20_000);
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
    await c.advance(9000);
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
    await c.advance(3000);
    list = [container('a', 'running', since / 1000), container('b', 'created', since / 1000)];
    await c.advance(20_000);
    expect(stalls).toEqual([]);
  });

  it('a replacement waiting while the old container of its service still stops is not a stall', async () => {
    const c = clock(since);
    const stalls: string[] = [];
    let list = [container('old', 'running', since / 1000 - 60)];
    watch(c, () => list, stalls);
    list = [container('new', 'created', since / 1000), container('old', 'running', since / 1000 - 60)];
    await c.advance(30_000); // a 30 s stop_grace_period
    expect(stalls).toEqual([]);
    list = [container('new', 'created', since / 1000)]; // old stopped and removed; the start hangs
    await c.advance(7000);
    expect(stalls).toEqual([]);
    await c.advance(2000);
    expect(stalls).toEqual([
      'the Docker engine has started no container for 8 s (p-new created, not started)',
    ]);
  });

  it('stop() ends it before the bound', async () => {
    const c = clock(since);
    const stalls: string[] = [];
    const watching = watch(c, () => [container('a', 'created', since / 1000)], stalls);
    await c.advance(5000);
    watching.stop();
    await c.advance(20_000);
    expect(stalls).toEqual([]);
  });
});
