/** An age identity file, as age-keygen writes it: `#` comments and one `AGE-SECRET-KEY-1…` a line. */
import { SopsError } from './errors.js';

/**
 * The identities of an identity file (none for an empty file). A line that is neither a comment
 * nor an identity is refused by its number, never quoted (it may be a key pasted wrongly).
 */
export function parseAgeIdentities(text: string): string[] {
  const identities: string[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (!/^AGE-SECRET-KEY-1[0-9A-Z]{58}$/.test(line)) {
      throw new SopsError(
        `line ${i + 1} is not an age identity (AGE-SECRET-KEY-1…, as age-keygen writes it)`,
      );
    }
    identities.push(line);
  }
  return identities;
}
