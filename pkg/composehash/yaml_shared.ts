/** What both YAML readers (yaml.ts, yaml_lenient.ts) share: integers as go-yaml reads them, the top mapping. */
import { ComposeFileError } from './errors.js';
import type { Json, JsonObject } from './json.js';

/**
 * Integers as compose's go-yaml reads a plain scalar (`strconv.ParseInt(s, 0, 64)` with `_`
 * removed): `010` is 8, `0b101` 5, `1_000` 1000, and one beyond 2^53 keeps every digit (as a
 * decimal string: JavaScript numbers would round it, and two different ids would hash alike).
 */
const GO_INT = /^[-+]?(?:0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|0[0-7]*|[1-9][0-9]*)$/;

export function goInt(source: string): number | string | undefined {
  const plain = source.replace(/_/g, '');
  if (!GO_INT.test(plain) || /^[-+]?_|_$/.test(source)) return undefined;
  const digits = plain.replace(/^[-+]/, '');
  const big = BigInt(/^0[0-7]+$/.test(digits) ? `0o${digits.slice(1)}` : digits);
  const value = plain.startsWith('-') ? -big : big;
  const number = Number(value);
  return Number.isSafeInteger(number) ? number : value.toString();
}

/** The document at the top of a compose file must be a mapping. */
export function topMapping(file: string, value: Json, line: number | null): JsonObject {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value;
  const what = value === null ? 'nothing' : Array.isArray(value) ? 'a sequence' : `a ${typeof value}`;
  throw new ComposeFileError(file, line ?? 1, `expected a mapping at the top, found ${what}`);
}
