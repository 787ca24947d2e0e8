import { describe, expect, it } from '@jest/globals';

import { createDelayingQueue } from './delaying.js';
import { FakeClock } from '../clock/fake.js';

/** Drains every key that is ready now, marking each done. */
const readyKeys = async (queue: ReturnType<typeof createDelayingQueue>): Promise<string[]> => {
  const keys: string[] = [];
  while (queue.len() > 0) {
    const key = (await queue.get())!;
    keys.push(key);
    queue.done(key);
  }
  return keys;
};

describe('DelayingQueue', () => {
  it('adds a key once its delay has passed, not before', async () => {
    const clock = new FakeClock();
    const queue = createDelayingQueue({ clock });
    queue.addAfter('a', 1000);
    expect(queue.len()).toBe(0);
    clock.advance(999);
    expect(queue.len()).toBe(0);
    clock.advance(1);
    expect(await readyKeys(queue)).toEqual(['a']);
  });

  it('adds at once when ms <= 0', async () => {
    const clock = new FakeClock();
    const queue = createDelayingQueue({ clock });
    queue.addAfter('a', 0);
    queue.addAfter('b', -100);
    expect(await readyKeys(queue)).toEqual(['a', 'b']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('adds keys in deadline order, equal deadlines in call order', async () => {
    const clock = new FakeClock();
    const queue = createDelayingQueue({ clock });
    queue.addAfter('c', 300);
    queue.addAfter('a', 100);
    queue.addAfter('b2', 200);
    queue.addAfter('b1', 200);
    clock.advance(1000);
    expect(await readyKeys(queue)).toEqual(['a', 'b2', 'b1', 'c']);
  });

  it('keeps one timer armed, for the earliest deadline', () => {
    const clock = new FakeClock();
    const queue = createDelayingQueue({ clock });
    queue.addAfter('a', 500);
    queue.addAfter('b', 100);
    queue.addAfter('c', 900);
    expect(clock.pendingTimers).toBe(1);
    clock.advance(100);
    expect(queue.len()).toBe(1);
    expect(clock.pendingTimers).toBe(1);
    clock.advance(800);
    expect(queue.len()).toBe(3);
    expect(clock.pendingTimers).toBe(0);
  });

  it('keeps the earlier deadline when a waiting key is added again later', async () => {
    const clock = new FakeClock();
    const queue = createDelayingQueue({ clock });
    queue.addAfter('a', 1000);
    clock.advance(100);
    queue.addAfter('a', 5000);
    clock.advance(900);
    expect(await readyKeys(queue)).toEqual(['a']);
    clock.advance(10_000);
    expect(queue.len()).toBe(0); // the later deadline was dropped, not queued as well
  });

  it('moves the deadline earlier when a waiting key is added again sooner', async () => {
    const clock = new FakeClock();
    const queue = createDelayingQueue({ clock });
    queue.addAfter('a', 5000);
    queue.addAfter('a', 1000);
    clock.advance(1000);
    expect(await readyKeys(queue)).toEqual(['a']);
    clock.advance(10_000);
    expect(queue.len()).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('dedups a delayed key that is already waiting when it falls due', async () => {
    const clock = new FakeClock();
    const queue = createDelayingQueue({ clock });
    queue.add('a');
    queue.addAfter('a', 100);
    clock.advance(100);
    expect(await readyKeys(queue)).toEqual(['a']);
  });

  it('a delayed key that falls due while being processed is processed once more after done', async () => {
    const clock = new FakeClock();
    const queue = createDelayingQueue({ clock });
    queue.add('a');
    await queue.get();
    queue.addAfter('a', 100);
    clock.advance(100);
    expect(queue.len()).toBe(0);
    queue.done('a');
    expect(await readyKeys(queue)).toEqual(['a']);
  });

  it('drops delayed keys and their timer on shutdown, and ignores addAfter afterwards', async () => {
    const clock = new FakeClock();
    const queue = createDelayingQueue({ clock });
    queue.addAfter('a', 100);
    queue.shutDown();
    expect(clock.pendingTimers).toBe(0);
    queue.addAfter('b', 100);
    queue.addAfter('c', 0);
    expect(clock.pendingTimers).toBe(0);
    clock.advance(1000);
    expect(queue.len()).toBe(0);
    expect(await queue.get()).toBeUndefined();
  });

  it('validates loudly', () => {
    const queue = createDelayingQueue({ clock: new FakeClock() });
    expect(() => {
      queue.addAfter('a', Number.NaN);
    }).toThrow(new TypeError('Expected `ms` to be a finite number, got `NaN` (number)'));
    expect(() => {
      queue.addAfter('a', Infinity);
    }).toThrow('Expected `ms` to be a finite number, got `Infinity` (number)');
    expect(() => {
      queue.addAfter('a', '5' as unknown as number);
    }).toThrow('Expected `ms` to be a finite number, got `5` (string)');
    expect(() => {
      queue.addAfter(null as unknown as string, 5);
    }).toThrow('Expected `key` to be a string, got `null` (object)');
  });
});
