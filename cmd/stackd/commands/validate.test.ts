/** `stackd validate`'s `--compose` / `--no-compose`, as parsed (the command itself: test/cli). */
import { describe, expect, it } from '@jest/globals';
import { parseCommand } from '../cli.js';
import { composeModeOf } from './validate.js';

describe('validate --compose', () => {
  it.each([
    [[], 'auto'],
    [['--compose'], 'on'],
    [['--compose=true'], 'on'],
    [['--no-compose'], 'off'],
    [['--compose=false'], 'off'],
    [['--compose', '--no-compose'], 'off'],
    [['--no-compose', '--compose'], 'on'],
    [['--compose=false', '--compose=true'], 'on'],
  ])('%j → %s (the last one given wins)', (argv, mode) => {
    const { values } = parseCommand('validate', ['.', ...argv]);
    expect(composeModeOf(values['compose'])).toBe(mode);
  });

  it('is no flag of the other commands', () => {
    expect(() => parseCommand('plan', ['--no-compose'])).toThrow(/Unknown option '--no-compose'/);
  });
});
