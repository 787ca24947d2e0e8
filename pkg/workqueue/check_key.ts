import { invalid } from '../validate/index.js';

/** Throws unless `value` is a string (keys are stack ids). */
export function checkKey(value: unknown): asserts value is string {
  if (typeof value !== 'string') throw invalid('key', 'a string', value);
}
