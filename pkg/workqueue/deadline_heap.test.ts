import { describe, expect, it } from '@jest/globals';

import { DeadlineHeap } from './deadline_heap.js';

describe('DeadlineHeap', () => {
  it('pops in deadline order, ties in insertion order', () => {
    const heap = new DeadlineHeap();
    // A fixed pseudo-random sequence (LCG), with many equal deadlines.
    let seed = 42;
    const pushed: { key: string; at: number }[] = [];
    for (let i = 0; i < 500; i++) {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      const entry = { key: `k${i}`, at: seed % 50 };
      pushed.push(entry);
      heap.push(entry.key, entry.at);
    }
    const expected = pushed
      .map((entry, seq) => ({ ...entry, seq }))
      .sort((a, b) => a.at - b.at || a.seq - b.seq)
      .map(({ key, at }) => ({ key, at }));
    const popped: { key: string; at: number }[] = [];
    for (let entry = heap.pop(); entry !== undefined; entry = heap.pop()) {
      popped.push({ key: entry.key, at: entry.at });
    }
    expect(popped).toEqual(expected);
  });

  it('peeks without removing, and clears', () => {
    const heap = new DeadlineHeap();
    expect(heap.peek()).toBeUndefined();
    expect(heap.pop()).toBeUndefined();
    heap.push('b', 2);
    heap.push('a', 1);
    expect(heap.peek()).toEqual({ key: 'a', at: 1, seq: 1 });
    expect(heap.peek()?.key).toBe('a');
    heap.clear();
    expect(heap.peek()).toBeUndefined();
  });
});
