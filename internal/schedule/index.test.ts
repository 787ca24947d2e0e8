import { describe, expect, it } from '@jest/globals';

import { backoffDelay } from '../../pkg/clock/index.js';
import {
  ENGINE_RECONNECT,
  FETCH_RETRY,
  LAG_RELIST,
  LAG_RELIST_ATTEMPTS,
  REGISTRY_BACKOFF,
  STACK_RETRY,
} from './index.js';

const walk = (backoff: Parameters<typeof backoffDelay>[1], n: number): number[] =>
  Array.from({ length: n }, (_, attempt) => backoffDelay(attempt, backoff));

describe('the schedule', () => {
  it('walks every backoff with the one primitive, to the documented delays', () => {
    expect(walk(STACK_RETRY, 10)).toEqual([2e3, 4e3, 8e3, 16e3, 32e3, 64e3, 128e3, 256e3, 300e3, 300e3]);
    expect(walk(FETCH_RETRY, 8)).toEqual([5e3, 10e3, 20e3, 40e3, 80e3, 160e3, 300e3, 300e3]);
    expect(walk(ENGINE_RECONNECT, 7)).toEqual([1e3, 2e3, 4e3, 8e3, 16e3, 30e3, 30e3]);
    expect(walk(LAG_RELIST, LAG_RELIST_ATTEMPTS)).toEqual([100, 200, 400, 800, 1600]);
    expect(walk(REGISTRY_BACKOFF, 8)).toEqual([30e3, 60e3, 120e3, 240e3, 480e3, 960e3, 1800e3, 1800e3]);
  });
});
