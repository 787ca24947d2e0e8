import { describe, expect, it, jest } from '@jest/globals';

import { FakeClock } from '../clock/fake.js';
import { createExponentialRateLimiter, type RateLimiter } from './rate_limiters.js';
import { createRateLimitingQueue } from './rate_limiting.js';

describe('RateLimitingQueue', () => {
  it('re-adds a key after the delay its rate limiter gives', async () => {
    const clock = new FakeClock();
    const rateLimiter = createExponentialRateLimiter({ baseDelay: 100, maxDelay: 1000 });
    const queue = createRateLimitingQueue({ clock, rateLimiter });
    queue.addRateLimited('a');
    expect(queue.numRequeues('a')).toBe(1);
    clock.advance(99);
    expect(queue.len()).toBe(0);
    clock.advance(1);
    expect(await queue.get()).toBe('a');
    queue.addRateLimited('a'); // fails again: 200 ms
    queue.done('a');
    clock.advance(199);
    expect(queue.len()).toBe(0);
    clock.advance(1);
    expect(queue.len()).toBe(1);
    expect(queue.numRequeues('a')).toBe(2);
  });

  it('forget resets the backoff', () => {
    const clock = new FakeClock();
    const rateLimiter = createExponentialRateLimiter({ baseDelay: 100, maxDelay: 1000 });
    const queue = createRateLimitingQueue({ clock, rateLimiter });
    queue.addRateLimited('a');
    queue.addRateLimited('a');
    queue.addRateLimited('a');
    queue.forget('a');
    expect(queue.numRequeues('a')).toBe(0);
    clock.advance(100); // the first deadline (the earliest) still stands
    expect(queue.len()).toBe(1);
  });

  it('uses the default controller rate limiter on the given clock', () => {
    const clock = new FakeClock();
    const queue = createRateLimitingQueue({ clock });
    queue.addRateLimited('a');
    clock.advance(1999);
    expect(queue.len()).toBe(0);
    clock.advance(1);
    expect(queue.len()).toBe(1);
  });

  it('counts each addRateLimited as a retry', () => {
    const retry = jest.fn();
    const queue = createRateLimitingQueue({ clock: new FakeClock(), metrics: { retry } });
    queue.addRateLimited('a');
    queue.addRateLimited('b');
    queue.add('c');
    queue.addAfter('d', 10);
    expect(retry).toHaveBeenCalledTimes(2);
  });

  it('ignores addRateLimited once shutting down, without touching the limiter', () => {
    const when = jest.fn<RateLimiter['when']>(() => 0);
    const rateLimiter: RateLimiter = { when, forget: jest.fn(), numRequeues: () => 0 };
    const retry = jest.fn();
    const queue = createRateLimitingQueue({ clock: new FakeClock(), rateLimiter, metrics: { retry } });
    queue.shutDown();
    queue.addRateLimited('a');
    expect(queue.len()).toBe(0);
    expect(when).not.toHaveBeenCalled();
    expect(retry).not.toHaveBeenCalled();
  });

  it('validates keys loudly', () => {
    const queue = createRateLimitingQueue({ clock: new FakeClock() });
    expect(() => {
      queue.addRateLimited(7 as unknown as string);
    }).toThrow('Expected `key` to be a string, got `7` (number)');
    expect(() => {
      queue.forget(7 as unknown as string);
    }).toThrow('Expected `key`');
    expect(() => queue.numRequeues(7 as unknown as string)).toThrow('Expected `key`');
  });
});
