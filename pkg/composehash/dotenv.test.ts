import { describe, expect, it } from '@jest/globals';
import { parseDotEnv } from './dotenv.js';

const parse = (text: string, outer: Record<string, string> = {}): Record<string, string> =>
  Object.fromEntries(parseDotEnv('.env', new TextEncoder().encode(text), (name) => outer[name]));

describe('parseDotEnv (as compose reads .env)', () => {
  it('reads KEY=value, KEY: value, export, comments and quotes', () => {
    expect(
      parse(
        [
          '# comment',
          'A=1',
          'export B = two words  # note',
          'C: yaml-style',
          "D='single $A \\n'",
          'E="double\\nline \\"q\\""',
          'F="a\\$b"',
          'G="x\\\\$A"',
          'H=${A}-${MISSING:-d}',
          'ONLY_KEY',
          'M="multi',
          'line"',
        ].join('\n'),
      ),
    ).toEqual({
      A: '1',
      B: 'two words',
      C: 'yaml-style',
      D: 'single $A \\n',
      E: 'double\nline "q"',
      F: 'a$b',
      G: 'x\\1',
      H: '1-d',
      M: 'multi\nline',
    });
  });

  it('lets the environment win in interpolation', () => {
    expect(parse('A=1\nB=${A}\n', { A: 'env' })).toEqual({ A: '1', B: 'env' });
  });

  it('names the key and line of a malformed entry, never its value', () => {
    expect(() => parse('OK=1\nPASSWORD=s3cr${et\n')).toThrow(
      /^\.env, line 2: the value of PASSWORD has a malformed `\$\{…\}`/,
    );
    expect(() => parse('OK=1\n-----BEGIN PRIVATE KEY-----\n')).toThrow(
      /^\.env, line 2: not a `KEY=value` line$/,
    );
    expect(() => parse('PASSWORD=s3cr${et\n')).toThrow(/^(?!.*s3cr)/);
  });
});
