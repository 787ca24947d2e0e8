import { describe, expect, it } from '@jest/globals';
import { sleep } from '../../pkg/clock/index.js';
import { FakeClock } from '../../pkg/clock/fake.js';
import { Coalescer } from './refresher.js';

const flush = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

/** A refresh the test finishes by hand. */
function manualRuns() {
  const finishers: (() => void)[] = [];
  let started = 0;
  return {
    run: () =>
      new Promise<void>((resolve) => {
        started++;
        finishers.push(resolve);
      }),
    started: () => started,
    async finish() {
      finishers.shift()?.();
      await flush();
    },
  };
}

describe('Coalescer', () => {
  it('starts at once when idle, and a burst during a run shares one pending run', async () => {
    const runs = manualRuns();
    const c = new Coalescer(runs.run);
    const first = c.trigger();
    expect(runs.started()).toBe(1);
    const burst = Array.from({ length: 50 }, () => c.trigger());
    expect(new Set(burst).size).toBe(1);
    await runs.finish();
    await first;
    expect(runs.started()).toBe(2);
    await runs.finish();
    await Promise.all(burst);
    expect(runs.started()).toBe(2);
  });

  it('a trigger after the pending run started gets a run of its own', async () => {
    const runs = manualRuns();
    const c = new Coalescer(runs.run);
    void c.trigger();
    const second = c.trigger();
    await runs.finish();
    expect(runs.started()).toBe(2);
    const third = c.trigger();
    expect(third).not.toBe(second);
    await runs.finish();
    await runs.finish();
    await third;
    expect(runs.started()).toBe(3);
  });

  it('a flood that keeps refreshes busy costs one run per gap', async () => {
    const clock = new FakeClock();
    const starts: number[] = [];
    const c = new Coalescer(
      () => {
        starts.push(clock.now());
        return sleep(clock, 100); // a fetch takes 100 ms
      },
      { minGapMs: 1000, clock },
    );
    // Two seconds of triggers every 10 ms.
    for (let t = 0; t < 2000; t += 10) {
      void c.trigger();
      await clock.advanceAsync(10);
    }
    await clock.advanceAsync(1000);
    await clock.advanceAsync(100);
    await c.idle();
    expect(starts).toEqual([0, 1000, 2000]);
  });

  it('a trigger while idle starts at once, even right after a run; one during a run waits out the gap', async () => {
    const clock = new FakeClock();
    const starts: number[] = [];
    const c = new Coalescer(
      () => {
        starts.push(clock.now());
        return sleep(clock, 100);
      },
      { minGapMs: 1000, clock },
    );
    const first = c.trigger();
    await clock.advanceAsync(100);
    await first;
    await clock.advanceAsync(50);
    const second = c.trigger(); // idle, 150 ms after the last start
    expect(starts).toEqual([0, 150]);
    await clock.advanceAsync(50);
    const third = c.trigger(); // during the second run: waits until 1150
    await clock.advanceAsync(50);
    await second;
    expect(clock.pendingDelays()).toEqual([900]);
    await clock.advanceAsync(899);
    expect(starts).toEqual([0, 150]);
    await clock.advanceAsync(1);
    expect(starts).toEqual([0, 150, 1150]);
    await clock.advanceAsync(100);
    await third;
  });

  it('a failed run rejects its callers and does not block the next one', async () => {
    let fail = true;
    let runs = 0;
    const c = new Coalescer(() => {
      runs++;
      return fail ? Promise.reject(new Error('fetch failed')) : Promise.resolve();
    });
    await expect(c.trigger()).rejects.toThrow('fetch failed');
    fail = false;
    await expect(c.trigger()).resolves.toBeUndefined();
    expect(runs).toBe(2);
  });

  it('idle() waits for the running and the pending run', async () => {
    const runs = manualRuns();
    const c = new Coalescer(runs.run);
    void c.trigger();
    void c.trigger();
    let idle = false;
    void c.idle().then(() => (idle = true));
    await runs.finish();
    expect(idle).toBe(false);
    await runs.finish();
    expect(idle).toBe(true);
  });
});
