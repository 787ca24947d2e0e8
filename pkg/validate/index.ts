/**
 * Loud option and argument checks for every package, all with one message pattern (p-queue's):
 * ``Expected `name` to be <expectation>, got `value` (type)``.
 */

/** ``Expected `name` to be <expectation>, got `value` (type)``. */
export function invalid(name: string, expectation: string, value: unknown): TypeError {
  return new TypeError(
    `Expected \`${name}\` to be ${expectation}, got \`${String(value)}\` (${typeof value})`,
  );
}

/** Throws unless `value` is an integer from `min` and up. */
export function checkInteger(name: string, value: unknown, min: number): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw invalid(name, `a number from ${min} and up`, value);
  }
}

/** Throws unless `value` is a finite number from `min` and up (or, with `infinite`, also `Infinity`). */
export function checkNumber(
  name: string,
  value: unknown,
  min: number,
  { infinite = false }: { readonly infinite?: boolean } = {},
): asserts value is number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || (!infinite && value === Infinity)) {
    throw invalid(name, `a ${infinite ? '' : 'finite '}number from ${min} and up`, value);
  }
}

/** Throws unless every value of `limits` is a safe integer from 1 and up; returns `limits`. */
export function checkLimits<T extends Readonly<Record<string, number>>>(limits: T): T {
  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1) throw invalid(key, 'an integer from 1 and up', value);
  }
  return limits;
}
