import { describe, expect, it } from '@jest/globals';

import { FakeClock } from '../clock/fake.js';
import {
  createBucketRateLimiter,
  createDefaultControllerRateLimiter,
  createExponentialRateLimiter,
  createMaxOfRateLimiter,
  type RateLimiter,
} from './rate_limiters.js';

const delays = (limiter: RateLimiter, key: string, n: number): number[] =>
  Array.from({ length: n }, () => limiter.when(key));

describe('exponential rate limiter', () => {
  it('defaults to 2 s doubling per failure, capped at 5 min', () => {
    const limiter = createExponentialRateLimiter();
    expect(delays(limiter, 'a', 10)).toEqual([
      2000, 4000, 8000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000, 300_000,
    ]);
    expect(limiter.numRequeues('a')).toBe(10);
  });

  it('doubles from the given base and caps at the given max', () => {
    const limiter = createExponentialRateLimiter({ baseDelay: 5, maxDelay: 1000 });
    expect(delays(limiter, 'a', 10)).toEqual([5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000]);
  });

  it('keeps failures per key', () => {
    const limiter = createExponentialRateLimiter({ baseDelay: 1, maxDelay: 100 });
    expect(delays(limiter, 'a', 3)).toEqual([1, 2, 4]);
    expect(limiter.when('b')).toBe(1);
    expect(limiter.numRequeues('a')).toBe(3);
    expect(limiter.numRequeues('b')).toBe(1);
    expect(limiter.numRequeues('c')).toBe(0);
  });

  it('forget resets a key to the base delay', () => {
    const limiter = createExponentialRateLimiter({ baseDelay: 1, maxDelay: 100 });
    delays(limiter, 'a', 5);
    delays(limiter, 'b', 2);
    limiter.forget('a');
    expect(limiter.numRequeues('a')).toBe(0);
    expect(limiter.when('a')).toBe(1);
    expect(limiter.numRequeues('b')).toBe(2);
  });

  it('stays at the cap after very many failures', () => {
    const limiter = createExponentialRateLimiter({ baseDelay: 1, maxDelay: 60_000 });
    expect(delays(limiter, 'a', 2000).at(-1)).toBe(60_000);
    const zero = createExponentialRateLimiter({ baseDelay: 0, maxDelay: 0 });
    expect(delays(zero, 'a', 2000).at(-1)).toBe(0);
  });

  it('validates loudly', () => {
    expect(() => createExponentialRateLimiter({ baseDelay: -1 })).toThrow(
      new TypeError('Expected `baseDelay` to be a finite number from 0 and up, got `-1` (number)'),
    );
    expect(() => createExponentialRateLimiter({ baseDelay: 2000, maxDelay: 1000 })).toThrow(
      'Expected `maxDelay` to be a finite number from 2000 and up, got `1000` (number)',
    );
    expect(() => createExponentialRateLimiter({ maxDelay: Infinity })).toThrow(
      'Expected `maxDelay` to be a finite number from 2000 and up, got `Infinity` (number)',
    );
  });
});

describe('token bucket rate limiter', () => {
  it('lets a burst through at once, then spaces requests at qps', () => {
    const clock = new FakeClock();
    const limiter = createBucketRateLimiter({ qps: 10, burst: 3, clock });
    expect(delays(limiter, 'a', 3)).toEqual([0, 0, 0]);
    expect(limiter.when('b')).toBe(100); // one key or another: the bucket is global
    expect(limiter.when('c')).toBe(200);
    expect(limiter.when('a')).toBe(300);
  });

  it('refills at qps up to the burst size', () => {
    const clock = new FakeClock();
    const limiter = createBucketRateLimiter({ qps: 10, burst: 3, clock });
    delays(limiter, 'a', 3);
    clock.advance(200); // two tokens back
    expect(delays(limiter, 'a', 3)).toEqual([0, 0, 100]);
    clock.advance(60_000); // long idle: full again, but no more than burst
    expect(delays(limiter, 'a', 4)).toEqual([0, 0, 0, 100]);
  });

  it('pays back debt before refilling', () => {
    const clock = new FakeClock();
    const limiter = createBucketRateLimiter({ qps: 1, burst: 1, clock });
    expect(delays(limiter, 'a', 3)).toEqual([0, 1000, 2000]);
    clock.advance(1500);
    expect(limiter.when('a')).toBe(1500);
    clock.advance(10_000);
    expect(limiter.when('a')).toBe(0);
  });

  it('supports fractional qps', () => {
    const clock = new FakeClock();
    const limiter = createBucketRateLimiter({ qps: 0.5, burst: 1, clock });
    expect(delays(limiter, 'a', 2)).toEqual([0, 2000]);
  });

  it('defaults to 10 qps with a burst of 100', () => {
    const clock = new FakeClock();
    const limiter = createBucketRateLimiter({ clock });
    expect(delays(limiter, 'a', 100).every((delay) => delay === 0)).toBe(true);
    expect(delays(limiter, 'a', 2)).toEqual([100, 200]);
  });

  it('has nothing per key to forget', () => {
    const limiter = createBucketRateLimiter({ clock: new FakeClock() });
    limiter.when('a');
    limiter.forget('a');
    expect(limiter.numRequeues('a')).toBe(0);
  });

  it('validates loudly', () => {
    expect(() => createBucketRateLimiter({ qps: 0 })).toThrow(
      new TypeError('Expected `qps` to be a finite number greater than 0, got `0` (number)'),
    );
    expect(() => createBucketRateLimiter({ qps: Number.NaN })).toThrow('got `NaN` (number)');
    expect(() => createBucketRateLimiter({ burst: 0 })).toThrow(
      'Expected `burst` to be a number from 1 and up, got `0` (number)',
    );
    expect(() => createBucketRateLimiter({ burst: 1.5 })).toThrow('got `1.5` (number)');
  });
});

describe('max-of rate limiter', () => {
  it('returns the longest delay, and every limiter records the failure', () => {
    const clock = new FakeClock();
    const exponential = createExponentialRateLimiter({ baseDelay: 10, maxDelay: 10_000 });
    const bucket = createBucketRateLimiter({ qps: 1, burst: 2, clock });
    const limiter = createMaxOfRateLimiter(exponential, bucket);
    // exponential: 10, 20, 40, 80; bucket: 0, 0, 1000, 2000
    expect(delays(limiter, 'a', 4)).toEqual([10, 20, 1000, 2000]);
    expect(exponential.numRequeues('a')).toBe(4);
  });

  it('numRequeues is the highest, forget reaches every limiter', () => {
    const first = createExponentialRateLimiter({ baseDelay: 1, maxDelay: 100 });
    const second = createExponentialRateLimiter({ baseDelay: 1, maxDelay: 100 });
    const limiter = createMaxOfRateLimiter(first, second);
    limiter.when('a');
    first.when('a');
    expect(limiter.numRequeues('a')).toBe(2);
    limiter.forget('a');
    expect(first.numRequeues('a')).toBe(0);
    expect(second.numRequeues('a')).toBe(0);
    expect(limiter.when('a')).toBe(1);
  });

  it('needs at least one limiter', () => {
    expect(() => createMaxOfRateLimiter()).toThrow(
      'Expected `limiters` to be at least one rate limiter, got `0` (number)',
    );
  });
});

describe('default controller rate limiter', () => {
  it('is per-key exponential 2 s → 5 min under a 10 qps, burst 100 bucket', () => {
    const clock = new FakeClock();
    const limiter = createDefaultControllerRateLimiter({ clock });
    expect(delays(limiter, 'a', 9)).toEqual([
      2000, 4000, 8000, 16_000, 32_000, 64_000, 128_000, 256_000, 300_000,
    ]);
    expect(limiter.numRequeues('a')).toBe(9);
    limiter.forget('a');
    expect(limiter.when('a')).toBe(2000);

    // 110 distinct keys failing at once: the first 100 get their 2 s, then the bucket spaces them.
    const burst = createDefaultControllerRateLimiter({ clock });
    const first = Array.from({ length: 110 }, (_, i) => burst.when(`k${i}`));
    expect(first.slice(0, 100).every((delay) => delay === 2000)).toBe(true);
    expect(first.slice(100)).toEqual([2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000, 2000]);
    const more = Array.from({ length: 30 }, (_, i) => burst.when(`j${i}`));
    expect(more.at(-1)).toBe(4000); // 40 tokens in debt at 10 qps
  });
});
