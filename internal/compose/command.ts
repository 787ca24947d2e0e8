/** The compose command: parsing a configured string into argv, and naming it in messages. */

/**
 * Split a configured command into argv: whitespace separates words, `'…'` and `"…"` group
 * words with spaces (`"/opt/my tools/docker-compose"`), a backslash escapes the next character.
 */
export function splitCommand(command: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < command.length; i++) {
    const ch = command.charAt(i);
    if (quote !== null) {
      if (ch === quote) quote = null;
      else if (ch === '\\' && quote === '"' && i + 1 < command.length) word += command.charAt(++i);
      else word += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < command.length) {
      word += command.charAt(++i);
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (quote !== null)
    throw new Error(`Expected \`compose.command\` to close its ${quote} quote, got \`${command}\``);
  if (inWord) words.push(word);
  return words;
}

/** Candidates tried, in order, for `command: 'auto'`. */
export const AUTO_CANDIDATES: readonly (readonly string[])[] = [['docker', 'compose'], ['docker-compose']];

/** The command as people write it: `docker compose`, `/usr/local/bin/docker-compose`. */
export function displayCommand(argv: readonly string[]): string {
  return argv.map((word) => (/[\s'"\\]/.test(word) || word === '' ? JSON.stringify(word) : word)).join(' ');
}
