/**
 * Shell words, the way compose (go-shellwords) and a configured command line are split:
 * whitespace separates words, `'…'` and `"…"` group words with spaces, a backslash outside single
 * quotes escapes the next character. No expansion of any kind.
 */

/** A quote opened and not closed. */
export class UnclosedQuoteError extends Error {
  override readonly name = 'UnclosedQuoteError';
  constructor(readonly quote: '"' | "'") {
    super(`unclosed ${quote} quote`);
  }
}

/** Split `text` into words; throws UnclosedQuoteError. */
export function splitWords(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charAt(i);
    if (quote !== null) {
      if (ch === quote) quote = null;
      else if (ch === '\\' && quote === '"' && i + 1 < text.length) word += text.charAt(++i);
      else word += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < text.length) {
      word += text.charAt(++i);
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
  if (quote !== null) throw new UnclosedQuoteError(quote);
  if (inWord) words.push(word);
  return words;
}
