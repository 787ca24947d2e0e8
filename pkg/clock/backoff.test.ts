import { describe, expect, it } from '@jest/globals';

import { backoffDelay, jittered } from './backoff.js';
import { elapsedMs, remainingMs } from './clock.js';
import { FakeClock } from './fake.js';

describe('backoffDelay', () => {
  it('doubles from base to max', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 100].map((n) => backoffDelay(n, { baseMs: 1000, maxMs: 30_000 }))).toEqual([
      1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000,
    ]);
  });

  it('is 0 for a base of 0, and treats a negative attempt as the first', () => {
    expect(backoffDelay(5, { baseMs: 0, maxMs: 10 })).toBe(0);
    expect(backoffDelay(-1, { baseMs: 7, maxMs: 100 })).toBe(7);
  });
});

describe('jittered', () => {
  it('lengthens by up to the fraction', () => {
    expect(jittered(1000, 0.1, () => 0)).toBe(1000);
    expect(jittered(1000, 0.1, () => 0.5)).toBe(1050);
    expect(jittered(1000, 0.1, () => 1)).toBe(1100);
  });
});

describe('elapsedMs and remainingMs', () => {
  it('are whole milliseconds, the remaining time rounded up and never below 0', () => {
    const clock = new FakeClock(1000.4);
    expect(elapsedMs(clock, 0.1)).toBe(1000);
    expect(remainingMs(clock, 3953.9)).toBe(2954);
    expect(remainingMs(clock, 500)).toBe(0);
  });
});
