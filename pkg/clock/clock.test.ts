import { afterEach, describe, expect, it, jest } from '@jest/globals';

import { realClock } from './clock.js';
import { FakeClock } from './fake.js';

describe('FakeClock', () => {
  it('starts at the given time and moves only by advance', () => {
    const clock = new FakeClock(1000);
    expect(clock.now()).toBe(1000);
    clock.advance(250);
    expect(clock.now()).toBe(1250);
    expect(new FakeClock().now()).toBe(0);
  });

  it('fires due timers in deadline order, with now() at each deadline', () => {
    const clock = new FakeClock();
    const fired: [string, number][] = [];
    clock.setTimeout(() => fired.push(['b', clock.now()]), 200);
    clock.setTimeout(() => fired.push(['a', clock.now()]), 100);
    clock.setTimeout(() => fired.push(['c', clock.now()]), 200);
    clock.setTimeout(() => fired.push(['late', clock.now()]), 301);
    clock.advance(300);
    expect(fired).toEqual([
      ['a', 100],
      ['b', 200],
      ['c', 200],
    ]);
    expect(clock.now()).toBe(300);
    expect(clock.pendingTimers).toBe(1);
  });

  it('fires timers set by timers when they fall due within the same advance', () => {
    const clock = new FakeClock();
    const fired: number[] = [];
    clock.setTimeout(() => {
      fired.push(clock.now());
      clock.setTimeout(() => fired.push(clock.now()), 50);
      clock.setTimeout(() => fired.push(clock.now()), 500);
    }, 100);
    clock.advance(200);
    expect(fired).toEqual([100, 150]);
    clock.advance(400);
    expect(fired).toEqual([100, 150, 600]);
  });

  it('fires zero and negative delays on advance(0), and not before', () => {
    const clock = new FakeClock();
    const fn = jest.fn();
    clock.setTimeout(fn, 0);
    clock.setTimeout(fn, -5);
    expect(fn).not.toHaveBeenCalled();
    clock.advance(0);
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it('clearTimeout cancels a pending timer and ignores unknown handles', () => {
    const clock = new FakeClock();
    const fn = jest.fn();
    const handle = clock.setTimeout(fn, 10);
    clock.clearTimeout(handle);
    clock.clearTimeout(handle);
    clock.clearTimeout('nope');
    clock.advance(100);
    expect(fn).not.toHaveBeenCalled();
    expect(clock.pendingTimers).toBe(0);
  });

  it('validates loudly', () => {
    expect(() => new FakeClock(Number.NaN)).toThrow(
      'Expected `start` to be a finite number from 0 and up, got `NaN` (number)',
    );
    expect(() => {
      new FakeClock().advance(-1);
    }).toThrow('Expected `ms` to be a finite number from 0 and up, got `-1` (number)');
  });
});

describe('realClock', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('is monotonic', () => {
    const a = realClock.now();
    expect(realClock.now()).toBeGreaterThanOrEqual(a);
  });

  it('runs and cancels timers', () => {
    jest.useFakeTimers();
    const fn = jest.fn();
    realClock.setTimeout(fn, 100);
    const cancelled = jest.fn();
    realClock.clearTimeout(realClock.setTimeout(cancelled, 100));
    realClock.clearTimeout(undefined);
    jest.advanceTimersByTime(99);
    expect(fn).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(cancelled).not.toHaveBeenCalled();
  });

  it('chains delays beyond what Node timers can hold instead of firing early', () => {
    jest.useFakeTimers();
    const fn = jest.fn();
    const handle = realClock.setTimeout(fn, 2 ** 32);
    jest.advanceTimersByTime(2 ** 31);
    expect(fn).not.toHaveBeenCalled();
    jest.advanceTimersByTime(2 ** 32 - 2 ** 31 - 1);
    expect(fn).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(fn).toHaveBeenCalledTimes(1);

    const cancelled = jest.fn();
    const long = realClock.setTimeout(cancelled, 2 ** 32);
    jest.advanceTimersByTime(2 ** 31);
    realClock.clearTimeout(long);
    jest.advanceTimersByTime(2 ** 32);
    expect(cancelled).not.toHaveBeenCalled();
    realClock.clearTimeout(handle);
  });
});
