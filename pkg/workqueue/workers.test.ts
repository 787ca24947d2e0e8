import { describe, expect, it, jest } from '@jest/globals';

import { FakeClock } from '../clock/fake.js';
import { createExponentialRateLimiter } from './rate_limiters.js';
import { createRateLimitingQueue, type RateLimitingQueue } from './rate_limiting.js';
import { TerminalError, isTerminalError } from './terminal_error.js';
import { Enqueuer, processKey, runWorkers, type Handler, type KeyInfo, type Result } from './workers.js';

/** Lets pending promise callbacks run (one macrotask turn; no time passes on the fake clock). */
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

const deferred = <T>(): Deferred<T> => {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

/** A queue on a fake clock with a 100 ms → 1.6 s backoff and no bucket. */
const setup = (): { clock: FakeClock; queue: RateLimitingQueue } => {
  const clock = new FakeClock();
  const rateLimiter = createExponentialRateLimiter({ baseDelay: 100, maxDelay: 1600 });
  return { clock, queue: createRateLimitingQueue({ clock, rateLimiter }) };
};

/** Advances the fake clock 1 ms at a time, letting the workers run after each step. */
const tick = async (clock: FakeClock, ms: number): Promise<void> => {
  for (let i = 0; i < ms; i++) {
    clock.advance(1);
    await flush();
  }
};

describe('processKey (the requeue contract)', () => {
  const processed = async (queue: RateLimitingQueue, handler: Handler, onError?: () => void) => {
    queue.add('a');
    const key = (await queue.get())!;
    await processKey(queue, key, handler, new AbortController().signal, onError);
  };

  it('success forgets the key and does not requeue it', async () => {
    const { clock, queue } = setup();
    queue.addRateLimited('a');
    queue.addRateLimited('a');
    clock.advance(100);
    const key = (await queue.get())!;
    await processKey(queue, key, () => Promise.resolve(), new AbortController().signal);
    expect(queue.numRequeues('a')).toBe(0);
    clock.advance(10_000);
    expect(queue.len()).toBe(0);
  });

  it('an error re-adds the key rate-limited and reports it', async () => {
    const { clock, queue } = setup();
    const onError = jest.fn();
    const error = new Error('engine unreachable');
    await processed(queue, () => Promise.reject(error), onError);
    expect(onError).toHaveBeenCalledWith('a', error);
    expect(queue.numRequeues('a')).toBe(1);
    clock.advance(99);
    expect(queue.len()).toBe(0);
    clock.advance(1);
    expect(queue.len()).toBe(1);
  });

  it('a synchronous throw counts as an error', async () => {
    const { queue } = setup();
    await processed(queue, () => {
      throw new Error('sync');
    });
    expect(queue.numRequeues('a')).toBe(1);
  });

  it('a TerminalError forgets the key and does not retry it', async () => {
    const { clock, queue } = setup();
    queue.addRateLimited('a');
    clock.advance(100);
    queue.done((await queue.get())!);
    const onError = jest.fn();
    await processed(queue, () => Promise.reject(new TerminalError('invalid compose file')), onError);
    expect(onError).toHaveBeenCalledTimes(1);
    expect(queue.numRequeues('a')).toBe(0);
    clock.advance(1_000_000);
    expect(queue.len()).toBe(0);
  });

  it('recognises terminal errors by name, also in the cause chain', async () => {
    const foreign = Object.assign(new Error('from another copy'), { name: 'TerminalError' });
    const wrapped = new Error('reconcile failed', { cause: new TerminalError('bad config') });
    for (const error of [foreign, wrapped]) {
      const { clock, queue } = setup();
      await processed(queue, () => Promise.reject(error));
      clock.advance(1_000_000);
      expect(queue.len()).toBe(0);
    }
    const cyclic: { name: string; cause?: unknown } = { name: 'Error' };
    cyclic.cause = cyclic;
    expect(isTerminalError(cyclic)).toBe(false);
    expect(isTerminalError('TerminalError')).toBe(false);
    expect(new TerminalError('x', { cause: 1 })).toMatchObject({ name: 'TerminalError', cause: 1 });
  });

  it('requeueAfter forgets the backoff, then adds the key after the delay', async () => {
    const { clock, queue } = setup();
    queue.addRateLimited('a');
    queue.addRateLimited('a');
    clock.advance(100);
    const key = (await queue.get())!;
    await processKey(queue, key, () => Promise.resolve({ requeueAfter: 5000 }), new AbortController().signal);
    expect(queue.numRequeues('a')).toBe(0);
    clock.advance(4999);
    expect(queue.len()).toBe(0);
    clock.advance(1);
    expect(queue.len()).toBe(1);
  });

  it('requeueAfter 0 requeues at once; an empty result is a success', async () => {
    const { queue } = setup();
    await processed(queue, () => Promise.resolve({ requeueAfter: 0 }));
    expect(queue.len()).toBe(1);
    queue.done((await queue.get())!);
    await processed(queue, () => Promise.resolve({}));
    expect(queue.len()).toBe(0);
  });

  it('an invalid requeueAfter counts as an error', async () => {
    const { queue } = setup();
    const onError = jest.fn();
    await processed(queue, () => Promise.resolve({ requeueAfter: Number.NaN }), onError);
    expect(onError).toHaveBeenCalledWith('a', expect.any(TypeError));
    expect(queue.numRequeues('a')).toBe(1);
  });

  it('marks the key done after requeueing, so a re-add during processing is kept', async () => {
    const { queue } = setup();
    queue.add('a');
    const key = (await queue.get())!;
    await processKey(
      queue,
      key,
      () => {
        queue.add('a');
        return Promise.resolve();
      },
      new AbortController().signal,
    );
    expect(queue.len()).toBe(1);
  });
});

describe('runWorkers', () => {
  it('validates options loudly', () => {
    const { queue } = setup();
    const handler = (): Promise<void> => Promise.resolve();
    expect(() => runWorkers(queue, { handler, concurrency: 0 })).toThrow(
      new TypeError('Expected `concurrency` to be a number from 1 and up, got `0` (number)'),
    );
    expect(() => runWorkers(queue, { handler, concurrency: 1.5 })).toThrow('got `1.5` (number)');
    expect(() => runWorkers(queue, { handler, gracePeriod: -1 })).toThrow(
      'Expected `gracePeriod` to be a number from 0 and up, got `-1` (number)',
    );
  });

  it('retries a failing key with doubling backoff up to the cap, then stops once it succeeds', async () => {
    const { clock, queue } = setup();
    const calls: number[] = [];
    const onError = jest.fn();
    const handler = (): Promise<void> => {
      calls.push(clock.now());
      return calls.length < 8 ? Promise.reject(new Error('boom')) : Promise.resolve();
    };
    const done = runWorkers(queue, { handler, clock, onError });
    queue.add('a');
    await flush();
    await tick(clock, 10_000);
    // backoff 100, 200, 400, 800, 1600, 1600, 1600
    expect(calls).toEqual([0, 100, 300, 700, 1500, 3100, 4700, 6300]);
    expect(onError).toHaveBeenCalledTimes(7);
    expect(queue.numRequeues('a')).toBe(0);
    queue.shutDown();
    await done;
  });

  it('counts retries through the queue metrics', async () => {
    const clock = new FakeClock();
    const retry = jest.fn();
    const rateLimiter = createExponentialRateLimiter({ baseDelay: 100, maxDelay: 100 });
    const queue = createRateLimitingQueue({ clock, rateLimiter, metrics: { retry } });
    let failures = 3;
    const handler = (): Promise<void> =>
      failures-- > 0 ? Promise.reject(new Error('boom')) : Promise.resolve();
    const done = runWorkers(queue, { handler, clock });
    queue.add('a');
    await tick(clock, 1000);
    expect(retry).toHaveBeenCalledTimes(3);
    queue.shutDown();
    await done;
  });

  it('does not retry a key whose handler throws a TerminalError', async () => {
    const { clock, queue } = setup();
    const handler = jest.fn<Handler>(() => Promise.reject(new TerminalError('invalid')));
    const done = runWorkers(queue, { handler, clock });
    queue.add('a');
    await tick(clock, 5000);
    expect(handler).toHaveBeenCalledTimes(1);
    queue.shutDown();
    await done;
  });

  it('processes a key again after requeueAfter', async () => {
    const { clock, queue } = setup();
    const calls: number[] = [];
    const handler = (): Promise<Result> => {
      calls.push(clock.now());
      return Promise.resolve(calls.length < 3 ? { requeueAfter: 250 } : undefined);
    };
    const done = runWorkers(queue, { handler, clock });
    queue.add('a');
    await flush();
    await tick(clock, 2000);
    expect(calls).toEqual([0, 250, 500]);
    queue.shutDown();
    await done;
  });

  it('with concurrency 2, never runs one key twice at once and runs a key re-added while processing once more', async () => {
    const { clock, queue } = setup();
    const active = new Set<string>();
    let maxActive = 0;
    const log: string[] = [];
    const gates = new Map<string, Deferred<undefined>>();
    const handler = async (key: string): Promise<void> => {
      expect(active.has(key)).toBe(false);
      active.add(key);
      maxActive = Math.max(maxActive, active.size);
      log.push(`start ${key}`);
      const gate = deferred<undefined>();
      gates.set(key, gate);
      await gate.promise;
      log.push(`end ${key}`);
      active.delete(key);
    };
    const done = runWorkers(queue, { handler, concurrency: 2, clock });
    queue.add('a');
    await flush();
    expect(log).toEqual(['start a']);

    // While `a` runs, it is re-added three times: one more run, after this one; a second worker is idle.
    queue.add('a');
    queue.add('a');
    queue.add('a');
    await flush();
    expect(log).toEqual(['start a']);

    // A different key runs beside it.
    queue.add('b');
    await flush();
    expect(log).toEqual(['start a', 'start b']);

    gates.get('a')!.resolve(undefined);
    await flush();
    expect(log).toEqual(['start a', 'start b', 'end a', 'start a']);

    gates.get('a')!.resolve(undefined);
    gates.get('b')!.resolve(undefined);
    await flush();
    expect(log).toEqual(['start a', 'start b', 'end a', 'start a', 'end a', 'end b']);
    expect(maxActive).toBe(2);

    queue.shutDown();
    await done;
    expect(log.filter((line) => line === 'start a')).toHaveLength(2);
  });

  it('runs at most `concurrency` handlers at once', async () => {
    const { clock, queue } = setup();
    let active = 0;
    let maxActive = 0;
    const gate = deferred<undefined>();
    const handler = async (): Promise<void> => {
      active++;
      maxActive = Math.max(maxActive, active);
      await gate.promise;
      active--;
    };
    const done = runWorkers(queue, { handler, concurrency: 3, clock });
    for (const key of ['a', 'b', 'c', 'd', 'e']) queue.add(key);
    await flush();
    expect(active).toBe(3);
    expect(queue.len()).toBe(2);
    gate.resolve(undefined);
    await flush();
    expect(maxActive).toBe(3);
    expect(queue.len()).toBe(0);
    queue.shutDown();
    await done;
  });

  describe('shutdown', () => {
    it('lets in-flight handlers finish, starts no waiting key, ignores new keys, then resolves', async () => {
      const { clock, queue } = setup();
      const gate = deferred<undefined>();
      const started: string[] = [];
      const finished: string[] = [];
      const handler = async (key: string, signal: AbortSignal): Promise<void> => {
        started.push(key);
        await gate.promise;
        expect(signal.aborted).toBe(false);
        finished.push(key);
      };
      const done = runWorkers(queue, { handler, clock });
      const resolved = jest.fn();
      void done.then(resolved);
      queue.add('a');
      queue.add('b');
      await flush();
      expect(started).toEqual(['a']);

      queue.shutDown();
      queue.add('c');
      queue.addAfter('d', 10);
      queue.addRateLimited('e');
      await tick(clock, 100);
      expect(resolved).not.toHaveBeenCalled();
      expect(finished).toEqual([]);

      gate.resolve(undefined);
      await done;
      expect(started).toEqual(['a']);
      expect(finished).toEqual(['a']);
      expect(clock.pendingTimers).toBe(0);
    });

    it('with drain, also processes the keys still waiting', async () => {
      const { clock, queue } = setup();
      const gate = deferred<undefined>();
      const seen: string[] = [];
      const handler = async (key: string): Promise<void> => {
        seen.push(key);
        await gate.promise;
      };
      const done = runWorkers(queue, { handler, clock, drain: true });
      queue.add('a');
      queue.add('b');
      queue.add('c');
      await flush();
      queue.shutDown();
      gate.resolve(undefined);
      await done;
      expect(seen).toEqual(['a', 'b', 'c']);
      expect(await queue.get()).toBeUndefined();
    });

    it('resolves at once when idle, and get() then returns undefined', async () => {
      const { clock, queue } = setup();
      const done = runWorkers(queue, { handler: () => Promise.resolve(), concurrency: 4, clock });
      await flush();
      queue.shutDown();
      await done;
      expect(await queue.get()).toBeUndefined();
    });

    it('aborts the handlers signal when the grace period ends', async () => {
      const { clock, queue } = setup();
      const reasons: string[] = [];
      const handler = (key: string, signal: AbortSignal): Promise<void> =>
        new Promise((_, reject) => {
          signal.addEventListener('abort', () => {
            reasons.push(key);
            reject(new Error('aborted'));
          });
        });
      const onError = jest.fn();
      const done = runWorkers(queue, { handler, concurrency: 2, gracePeriod: 5000, clock, onError });
      queue.add('a');
      queue.add('b');
      await flush();
      queue.shutDown();
      await tick(clock, 4999);
      expect(reasons).toEqual([]);
      await tick(clock, 1);
      await done;
      expect(reasons).toEqual(['a', 'b']);
      expect(onError).toHaveBeenCalledTimes(2);
      expect(queue.len()).toBe(0); // the failure is not retried after shutdown
    });

    it('with gracePeriod 0, aborts on shutdown; on a queue already shut down, too', async () => {
      const { clock, queue } = setup();
      const signals: AbortSignal[] = [];
      const handler = (_key: string, signal: AbortSignal): Promise<void> => {
        signals.push(signal);
        return new Promise((resolve) => {
          signal.addEventListener('abort', () => {
            resolve();
          });
        });
      };
      const done = runWorkers(queue, { handler, gracePeriod: 0, clock });
      queue.add('a');
      await flush();
      queue.shutDown();
      clock.advance(0);
      await done;
      expect(signals.map((signal) => signal.aborted)).toEqual([true]);

      const other = setup();
      other.queue.add('b');
      other.queue.shutDown();
      const drained = runWorkers(other.queue, { handler, drain: true, gracePeriod: 10, clock: other.clock });
      await flush();
      expect(signals).toHaveLength(2);
      other.clock.advance(10);
      await drained;
      expect(signals[1]!.aborted).toBe(true);
    });

    it('clears the grace timer when handlers finish in time', async () => {
      const { clock, queue } = setup();
      const gate = deferred<undefined>();
      const handler = jest.fn<Handler>(() => gate.promise);
      const done = runWorkers(queue, { handler, gracePeriod: 5000, clock });
      queue.add('a');
      await flush();
      queue.shutDown();
      await flush();
      expect(clock.pendingTimers).toBe(1);
      gate.resolve(undefined);
      await done;
      expect(clock.pendingTimers).toBe(0);
    });

    it('shuts the queue down when the signal aborts, also if aborted already', async () => {
      const { clock, queue } = setup();
      const controller = new AbortController();
      const done = runWorkers(queue, { handler: () => Promise.resolve(), clock, signal: controller.signal });
      await flush();
      controller.abort();
      expect(queue.shuttingDown).toBe(true);
      await done;

      const other = setup();
      await runWorkers(other.queue, {
        handler: () => Promise.resolve(),
        clock: other.clock,
        signal: AbortSignal.abort(),
      });
      expect(other.queue.shuttingDown).toBe(true);
    });
  });

  it('keeps going when onError throws', async () => {
    const { clock, queue } = setup();
    const handler = jest.fn<Handler>(() => Promise.reject(new TerminalError('x')));
    const onError = (): void => {
      throw new Error('logger broke');
    };
    const done = runWorkers(queue, { handler, clock, onError });
    queue.add('a');
    queue.add('b');
    await flush();
    expect(handler).toHaveBeenCalledTimes(2);
    queue.shutDown();
    await done;
  });

  it('reports queue and work durations and the longest-running processor under the fake clock', async () => {
    const clock = new FakeClock();
    const queueDuration = jest.fn();
    const workDuration = jest.fn();
    const depth = jest.fn();
    const add = jest.fn();
    const queue = createRateLimitingQueue({ clock, metrics: { queueDuration, workDuration, depth, add } });
    const gate = deferred<undefined>();
    const handler = jest.fn<Handler>(() => gate.promise);
    queue.add('a');
    queue.add('b');
    clock.advance(1500);
    const done = runWorkers(queue, { handler, clock });
    await flush();
    expect(queueDuration.mock.calls).toEqual([[1.5]]);

    clock.advance(3000);
    expect(queue.longestRunningSeconds()).toBe(3);
    gate.resolve(undefined);
    await flush();
    expect(workDuration.mock.calls).toEqual([[3], [0]]);
    expect(queueDuration.mock.calls).toEqual([[1.5], [4.5]]);
    expect(add).toHaveBeenCalledTimes(2);
    expect(depth.mock.calls).toEqual([[1], [2], [1], [0]]);
    expect(queue.longestRunningSeconds()).toBe(0);
    queue.shutDown();
    await done;
  });
});

describe('Enqueuer (how triggers add keys)', () => {
  it('an observed change does not cut a retry backoff short, and adds the key at once after a success', async () => {
    const { clock, queue } = setup();
    const enqueuer = new Enqueuer(queue);
    const calls: number[] = [];
    const handler = (): Promise<void> => {
      calls.push(clock.now());
      return calls.length === 1 ? Promise.reject(new Error('boom')) : Promise.resolve();
    };
    const done = runWorkers(queue, { handler, clock, enqueuer });
    enqueuer.addObserved('a');
    await flush();
    expect(calls).toEqual([0]);
    // Waiting out its 100 ms backoff: events are left to the retry.
    await tick(clock, 50);
    enqueuer.addObserved('a');
    await tick(clock, 49);
    expect(calls).toEqual([0]);
    await tick(clock, 1);
    expect(calls).toEqual([0, 100]);
    // Succeeded, forgotten: the next event adds it at once.
    enqueuer.addObserved('a');
    await flush();
    expect(calls).toEqual([0, 100, 100]);
    queue.shutDown();
    await done;
  });

  it('a forced add reaches the handler as forced, once', async () => {
    const { clock, queue } = setup();
    const enqueuer = new Enqueuer(queue);
    const seen: [string, KeyInfo][] = [];
    const done = runWorkers(queue, {
      handler: (key, _signal, info) => {
        seen.push([key, info]);
        return Promise.resolve();
      },
      clock,
      enqueuer,
    });
    enqueuer.addForced('a');
    await flush();
    enqueuer.add('a');
    enqueuer.add('b');
    await flush();
    expect(seen).toEqual([
      ['a', { forced: true, flags: new Set() }],
      ['a', { forced: false, flags: new Set() }],
      ['b', { forced: false, flags: new Set() }],
    ]);
    queue.shutDown();
    await done;
  });

  it('forced adds of one key before it is handled bring the union of their flags, once', async () => {
    const { clock, queue } = setup();
    const enqueuer = new Enqueuer(queue);
    const seen: [string, KeyInfo][] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const done = runWorkers(queue, {
      handler: async (key, _signal, info) => {
        seen.push([key, info]);
        if (key === 'busy') await gate;
      },
      clock,
      enqueuer,
    });
    enqueuer.add('busy');
    await flush();
    // The one worker is busy: these wait in the queue, 'a' once.
    enqueuer.addForced('a', ['prune']);
    enqueuer.addForced('a', ['other']);
    enqueuer.addForced('b');
    release();
    await flush();
    enqueuer.addForced('a');
    await flush();
    expect(seen).toEqual([
      ['busy', { forced: false, flags: new Set() }],
      ['a', { forced: true, flags: new Set(['prune', 'other']) }],
      ['b', { forced: true, flags: new Set() }],
      ['a', { forced: true, flags: new Set() }],
    ]);
    queue.shutDown();
    await done;
  });
});
