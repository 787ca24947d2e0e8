import { describe, expect, it } from '@jest/globals';
import { ComposeFileError } from './errors.js';
import { DEFAULT_LIMITS } from './limits.js';
import { parseComposeDocuments } from './yaml.js';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const parse = (text: string) => parseComposeDocuments('compose.yaml', bytes(text), DEFAULT_LIMITS)[0];

function parseError(text: string): ComposeFileError {
  try {
    parse(text);
  } catch (error) {
    expect(error).toBeInstanceOf(ComposeFileError);
    return error as ComposeFileError;
  }
  throw new Error('expected a ComposeFileError');
}

function billionLaughs(): string {
  let text = 'services: {}\nx-a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
  let previous = 'a';
  for (const name of ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i']) {
    text += `x-${name}: &${name} [${Array(9).fill(`*${previous}`).join(',')}]\n`;
    previous = name;
  }
  return text;
}

describe('parseComposeDocuments', () => {
  it('returns a plain JSON tree with merge keys applied', () => {
    const doc = parse(
      'x-base: &base {image: a, restart: "no"}\nservices:\n  web:\n    <<: *base\n    image: b\n',
    );
    expect(doc).toEqual({
      'x-base': { image: 'a', restart: 'no' },
      services: { web: { image: 'b', restart: 'no' } },
    });
  });

  it('copies aliases: no shared objects in the result', () => {
    const doc = parse(
      'x-env: &env {A: "1"}\nservices:\n  a: {environment: *env}\n  b: {environment: *env}\n',
    );
    const services = doc?.['services'] as Record<string, Record<string, unknown>>;
    expect(services['a']?.['environment']).not.toBe(services['b']?.['environment']);
  });

  it('rejects an alias bomb quickly, naming the file', () => {
    const started = Date.now();
    const error = parseError(billionLaughs());
    expect(Date.now() - started).toBeLessThan(1000);
    expect(error.file).toBe('compose.yaml');
    expect(error.message).toMatch(/^compose\.yaml(, line \d+)?: .*aliases are expanded/);
  });

  it('rejects a recursive alias', () => {
    expect(parseError('services: {}\nx: &a [1, *a]\n').message).toMatch(/compose\.yaml/);
  });

  it('rejects a file over the size limit before parsing it', () => {
    const big = `services: {}\nx-pad: "${'a'.repeat(10 * 1024 * 1024)}"\n`;
    const started = Date.now();
    const error = parseError(big);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(error.message).toMatch(/^compose\.yaml: file is \d+ bytes, more than the limit of 1048576$/);
  });

  it.each([
    ['a sequence', '- a\n- b\n', /expected a mapping at the top, found a sequence/],
    ['a scalar', 'hello\n', /expected a mapping at the top, found a string/],
    ['an empty file', '# nothing\n', /the file is empty/],
  ])('rejects %s', (_what, text, pattern) => {
    expect(parseError(text).message).toMatch(pattern);
  });

  it('returns every document of a file, in order (compose merges them)', () => {
    const docs = parseComposeDocuments(
      'compose.yaml',
      bytes('services: {a: {image: x}}\n---\nservices: {b: {image: y}}\n'),
      DEFAULT_LIMITS,
    );
    expect(docs).toEqual([{ services: { a: { image: 'x' } } }, { services: { b: { image: 'y' } } }]);
  });

  it('reads a file js-yaml refuses with the lenient parser, to the same tree, tags and merge keys kept', () => {
    const strict =
      'x-a: &a {A: 1}\nservices:\n  web:\n    <<: *a\n    ports: !reset []\n    command: ["a", "b"]\n';
    const lenient =
      'x-a: &a {A: 1}\nservices:\n  web:\n    <<: *a\n    ports: !reset []\n    command: [\n      "a", "b"\n    ]\n';
    const [one] = parseComposeDocuments('c.yaml', bytes(strict), DEFAULT_LIMITS);
    const [two] = parseComposeDocuments('c.yaml', bytes(lenient), DEFAULT_LIMITS);
    expect(two).toEqual(one);
    const web = (two?.['services'] as Record<string, Record<string, unknown>>)['web'];
    expect(Object.keys(web ?? {}).sort()).toEqual(['A', 'command', 'ports']);
    expect(() => parseComposeDocuments('c.yaml', bytes(`${lenient}x-a: 2\n`), DEFAULT_LIMITS)).toThrow(
      /duplicated mapping key `x-a`/,
    );
  });

  it('reads integers as compose does (010 is 8, 1_000 is 1000, big ids keep their digits), on both paths', () => {
    const ints =
      'a: 010\nb: 0x1F\nc: 1_000\nd: 123456789012345678\ne: -12\nf: 0b101\ng: "010"\nh: 3.5\ni: 12abc\n';
    const expected = {
      a: 8,
      b: 31,
      c: 1000,
      d: '123456789012345678',
      e: -12,
      f: 5,
      g: '010',
      h: 3.5,
      i: '12abc',
    };
    expect(parse(ints)).toEqual(expected);
    expect(parseComposeDocuments('c.yaml', bytes(`${ints}x: [\n  1\n]\n`), DEFAULT_LIMITS)[0]).toEqual({
      ...expected,
      x: [1],
    });
  });

  it('stops an alias bomb on the lenient path too', () => {
    const error = (() => {
      try {
        parseComposeDocuments('c.yaml', bytes(`${billionLaughs()}x-z: [\n  1\n]\n`), DEFAULT_LIMITS);
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(error?.message).toMatch(/aliases are expanded/);
  });

  it("reads a flow collection closed at its key's indentation, as compose does", () => {
    expect(parse('services:\n  web:\n    command: [\n      "a", "b"\n    ]\n')).toEqual({
      services: { web: { command: ['a', 'b'] } },
    });
  });

  it('reports YAML syntax errors with the line', () => {
    const error = parseError('services:\n  web:\n    image: [a\n    ports: 1\n');
    expect(error.line).not.toBeNull();
    expect(error.message).toMatch(/^compose\.yaml, line \d+: invalid YAML: /);
  });

  it('rejects duplicate keys and tags other than !reset and !override', () => {
    expect(parseError('services: {}\nservices: {}\n').message).toMatch(
      /line 2: invalid YAML: duplicated mapping key/,
    );
    expect(parseError('services:\n  web: !!js/function "x"\n').message).toMatch(/line 2: unsupported tag/);
    expect(parseError('services:\n  web:\n    ports: !weird []\n').message).toMatch(
      /line 3: unsupported tag `!weird`/,
    );
  });

  it('keeps !reset and !override as markers for the merge', () => {
    const doc = parse('services:\n  web:\n    ports: !reset []\n    command: !override [a]\n');
    const web = (doc?.['services'] as Record<string, Record<string, unknown>>)['web'];
    expect(Object.keys(web ?? {})).toEqual(['ports', 'command']);
    expect(web?.['ports']).not.toEqual([]);
  });

  it('rejects invalid UTF-8', () => {
    const error = (() => {
      try {
        parseComposeDocuments('compose.yaml', new Uint8Array([0xff, 0xfe, 0x41]), DEFAULT_LIMITS);
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(error?.message).toBe('compose.yaml: file is not valid UTF-8');
  });

  it('lets a file leave out services', () => {
    expect(parse('networks: {a: {}}\n')).toEqual({ networks: { a: {} } });
  });
});
