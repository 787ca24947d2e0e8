import { describe, expect, it } from '@jest/globals';
import { splitWords, UnclosedQuoteError } from './index.js';

describe('splitWords', () => {
  it.each([
    ['echo hi', ['echo', 'hi']],
    ['  sh   -c  "echo $HOME"  ', ['sh', '-c', 'echo $HOME']],
    ["a 'b c' d", ['a', 'b c', 'd']],
    ['a\\ b "c\\"d"', ['a b', 'c"d']],
    ["'it''s'", ['its']],
    ['""', ['']],
    ['', []],
  ])('%j', (text, words) => {
    expect(splitWords(text)).toEqual(words);
  });

  it('names an unclosed quote', () => {
    expect(() => splitWords('echo "hi')).toThrow(UnclosedQuoteError);
    let caught: unknown;
    try {
      splitWords("echo 'hi");
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(UnclosedQuoteError);
    expect((caught as UnclosedQuoteError).quote).toBe("'");
  });
});
