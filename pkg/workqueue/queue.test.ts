import { describe, expect, it, jest } from '@jest/globals';

import { FakeClock } from '../clock/fake.js';
import type { WorkQueueMetrics } from './metrics.js';
import { createQueue } from './queue.js';

/** Lets pending promise callbacks run (one macrotask turn; no time passes on the fake clock). */
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('Queue', () => {
  it('hands keys out in FIFO order', async () => {
    const queue = createQueue();
    queue.add('a');
    queue.add('b');
    queue.add('c');
    expect(queue.len()).toBe(3);
    expect(await queue.get()).toBe('a');
    expect(await queue.get()).toBe('b');
    expect(await queue.get()).toBe('c');
    expect(queue.len()).toBe(0);
  });

  it('ignores a key that is already waiting', async () => {
    const queue = createQueue();
    queue.add('a');
    queue.add('b');
    queue.add('a');
    expect(queue.len()).toBe(2);
    expect(await queue.get()).toBe('a');
    expect(await queue.get()).toBe('b');
    expect(queue.len()).toBe(0);
  });

  it('queues a key re-added while processing exactly once more, after done', async () => {
    const queue = createQueue();
    queue.add('a');
    expect(await queue.get()).toBe('a');
    queue.add('a');
    queue.add('a');
    expect(queue.len()).toBe(0); // not handed out while being processed
    queue.done('a');
    expect(queue.len()).toBe(1);
    expect(await queue.get()).toBe('a');
    queue.done('a');
    expect(queue.len()).toBe(0);
  });

  it('never hands one key to two getters at once', async () => {
    const queue = createQueue();
    queue.add('a');
    const first = await queue.get();
    const second = queue.get();
    const settled = jest.fn();
    void second.then(settled);
    queue.add('a');
    await flush();
    expect(settled).not.toHaveBeenCalled();
    queue.done(first!);
    expect(await second).toBe('a');
  });

  it('get waits for a key and getters are served in order', async () => {
    const queue = createQueue();
    const g1 = queue.get();
    const g2 = queue.get();
    queue.add('x');
    queue.add('y');
    expect(await g1).toBe('x');
    expect(await g2).toBe('y');
    expect(queue.len()).toBe(0);
  });

  it('a key handed to a waiting getter is processing at once', async () => {
    const queue = createQueue();
    const got = queue.get();
    queue.add('a');
    queue.add('a'); // re-added while processing, before the getter even ran
    expect(queue.len()).toBe(0);
    expect(await got).toBe('a');
    queue.done('a');
    expect(await queue.get()).toBe('a');
  });

  it('ignores done for a key that is not being processed', async () => {
    const queue = createQueue();
    queue.done('ghost');
    queue.add('a');
    queue.done('a'); // waiting, not processing: must not duplicate it
    expect(queue.len()).toBe(1);
    expect(await queue.get()).toBe('a');
    queue.done('a');
    queue.done('a');
    expect(queue.len()).toBe(0);
  });

  describe('shutDown', () => {
    it('ignores new keys, hands out the waiting ones, then resolves undefined', async () => {
      const queue = createQueue();
      queue.add('a');
      queue.add('b');
      expect(queue.shuttingDown).toBe(false);
      queue.shutDown();
      queue.shutDown(); // idempotent
      expect(queue.shuttingDown).toBe(true);
      queue.add('c');
      expect(queue.len()).toBe(2);
      expect(await queue.get()).toBe('a');
      expect(await queue.get()).toBe('b');
      expect(await queue.get()).toBeUndefined();
      expect(await queue.get()).toBeUndefined();
    });

    it('releases every waiting getter with undefined', async () => {
      const queue = createQueue();
      const getters = [queue.get(), queue.get()];
      queue.shutDown();
      expect(await Promise.all(getters)).toEqual([undefined, undefined]);
    });

    it('still queues a key that was re-added before shutdown when it is done', async () => {
      const queue = createQueue();
      queue.add('a');
      await queue.get();
      queue.add('a');
      queue.shutDown();
      queue.done('a');
      expect(await queue.get()).toBe('a');
      queue.done('a');
      expect(await queue.get()).toBeUndefined();
    });

    it('aborts shutdownSignal synchronously, once', () => {
      const queue = createQueue();
      const listener = jest.fn();
      queue.shutdownSignal.addEventListener('abort', listener);
      expect(queue.shutdownSignal.aborted).toBe(false);
      queue.shutDown();
      expect(listener).toHaveBeenCalledTimes(1);
      queue.shutDown();
      expect(listener).toHaveBeenCalledTimes(1);
      expect(queue.shutdownSignal.aborted).toBe(true);
    });
  });

  it('validates keys loudly', () => {
    const queue = createQueue();
    expect(() => {
      queue.add(1 as unknown as string);
    }).toThrow(new TypeError('Expected `key` to be a string, got `1` (number)'));
    expect(() => {
      queue.done(undefined as unknown as string);
    }).toThrow('Expected `key` to be a string, got `undefined` (undefined)');
  });

  describe('metrics', () => {
    const recorder = () => {
      const calls = {
        depth: [] as number[],
        adds: 0,
        queueDuration: [] as number[],
        workDuration: [] as number[],
      };
      const metrics: WorkQueueMetrics = {
        depth: (depth) => calls.depth.push(depth),
        add: () => {
          calls.adds++;
        },
        queueDuration: (seconds) => calls.queueDuration.push(seconds),
        workDuration: (seconds) => calls.workDuration.push(seconds),
      };
      return { calls, metrics };
    };

    it('reports depth, adds, queue and work durations under the clock', async () => {
      const clock = new FakeClock();
      const { calls, metrics } = recorder();
      const queue = createQueue({ clock, metrics });

      queue.add('a'); // t=0
      clock.advance(1000);
      queue.add('b'); // t=1
      queue.add('a'); // duplicate: not counted
      expect(calls.adds).toBe(2);
      expect(calls.depth).toEqual([1, 2]);

      clock.advance(2000);
      expect(await queue.get()).toBe('a'); // waited 3 s
      expect(await queue.get()).toBe('b'); // waited 2 s
      expect(calls.queueDuration).toEqual([3, 2]);
      expect(calls.depth).toEqual([1, 2, 1, 0]);

      clock.advance(500);
      queue.done('b');
      clock.advance(1500);
      queue.done('a');
      expect(calls.workDuration).toEqual([0.5, 2]);
    });

    it('counts a key re-added while processing in depth and times its wait from the re-add', async () => {
      const clock = new FakeClock();
      const { calls, metrics } = recorder();
      const queue = createQueue({ clock, metrics });
      queue.add('a');
      await queue.get();
      clock.advance(1000);
      queue.add('a');
      queue.add('a');
      expect(calls.adds).toBe(2);
      expect(calls.depth).toEqual([1, 0, 1]);
      clock.advance(4000);
      queue.done('a');
      clock.advance(1000);
      await queue.get();
      expect(calls.queueDuration).toEqual([0, 5]);
      expect(calls.workDuration).toEqual([5]);
      expect(calls.depth).toEqual([1, 0, 1, 0]);
    });

    it('reports a zero queue duration for a key handed straight to a waiting getter', async () => {
      const clock = new FakeClock();
      const { calls, metrics } = recorder();
      const queue = createQueue({ clock, metrics });
      const got = queue.get();
      clock.advance(7000);
      queue.add('a');
      await got;
      expect(calls.queueDuration).toEqual([0]);
      expect(calls.depth).toEqual([1, 0]);
    });

    it('longestRunningSeconds is the age of the oldest key being processed', async () => {
      const clock = new FakeClock();
      const queue = createQueue({ clock });
      expect(queue.longestRunningSeconds()).toBe(0);
      queue.add('a');
      queue.add('b');
      await queue.get();
      clock.advance(2000);
      await queue.get();
      clock.advance(1500);
      expect(queue.longestRunningSeconds()).toBe(3.5);
      queue.done('a');
      expect(queue.longestRunningSeconds()).toBe(1.5);
      queue.done('b');
      expect(queue.longestRunningSeconds()).toBe(0);
    });

    it('works with a partial metrics object', async () => {
      const depth = jest.fn();
      const queue = createQueue({ metrics: { depth } });
      queue.add('a');
      queue.done((await queue.get())!);
      expect(depth.mock.calls).toEqual([[1], [0]]);
    });
  });
});
