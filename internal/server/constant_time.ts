/** Comparisons of secrets whose duration does not depend on where the inputs differ. */
import { createHash, timingSafeEqual } from 'node:crypto';

/** Two secrets (tokens) are equal; hashing first keeps their lengths out of the timing too. */
export function secretsEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** Two digests are equal (lengths are public: a digest's length is fixed by its algorithm). */
export function digestsEqual(given: Buffer, expected: Buffer): boolean {
  return given.length === expected.length && timingSafeEqual(given, expected);
}
