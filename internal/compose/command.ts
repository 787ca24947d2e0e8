/** The compose command: parsing a configured string into argv, and naming it in messages. */
import { splitWords, UnclosedQuoteError } from '../../pkg/shellwords/index.js';

/**
 * Split a configured command into argv: whitespace separates words, `'…'` and `"…"` group
 * words with spaces (`"/opt/my tools/docker-compose"`), a backslash escapes the next character.
 */
export function splitCommand(command: string): string[] {
  try {
    return splitWords(command);
  } catch (error) {
    if (!(error instanceof UnclosedQuoteError)) throw error;
    throw new Error(`Expected \`compose.command\` to close its ${error.quote} quote, got \`${command}\``, {
      cause: error,
    });
  }
}

/** Candidates tried, in order, for `command: 'auto'`. */
export const AUTO_CANDIDATES: readonly (readonly string[])[] = [['docker', 'compose'], ['docker-compose']];

/** The command as people write it: `docker compose`, `/usr/local/bin/docker-compose`. */
export function displayCommand(argv: readonly string[]): string {
  return argv.map((word) => (/[\s'"\\]/.test(word) || word === '' ? JSON.stringify(word) : word)).join(' ');
}
