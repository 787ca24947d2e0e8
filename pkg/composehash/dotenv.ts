import { ComposeFileError } from './errors.js';
import { substitute, type Lookup, type Where } from './interpolate.js';

/**
 * A `.env` file as compose reads it: `KEY=value` per line (`export KEY=value` too), `#`
 * comments (after an unquoted value, a ` #` starts one), single quotes literal, double quotes
 * with `\n`, `\t`, `\\`, `\"` escapes, values spanning lines inside quotes; unquoted and
 * double-quoted values are interpolated with the variables above them and `outer` (which
 * wins, as the environment wins over `.env` for compose). Throws a ComposeFileError naming the
 * line of a malformed entry.
 */
export function parseDotEnv(
  file: string,
  content: Uint8Array,
  outer: Lookup = () => undefined,
): Map<string, string> {
  const text = new TextDecoder('utf-8').decode(content).replace(/^\ufeff/, '');
  const values = new Map<string, string>();
  const lookup: Lookup = (name) => outer(name) ?? values.get(name);
  let i = 0;
  let line = 1;
  // Values are never quoted in a message: a `.env` holds secrets.
  const where = (key: string) => (): Where => ({
    raw: `the value of ${key}`,
    error: () =>
      new ComposeFileError(
        file,
        line,
        `the value of ${key} has a malformed \`\${…}\` (write \`$$\` for a literal \`$\`)`,
      ),
  });
  while (i < text.length) {
    const end = text.indexOf('\n', i);
    const rawLine = text.slice(i, end === -1 ? text.length : end).replace(/\r$/, '');
    const startLine = line;
    const trimmed = rawLine.trim();
    if (trimmed === '' || trimmed.startsWith('#')) {
      i = end === -1 ? text.length : end + 1;
      line++;
      continue;
    }
    // `KEY=value`, or `KEY: value` as compose's dotenv reads it too.
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*(=|:(?=\s|$)|$)\s*/.exec(rawLine);
    if (match === null) {
      throw new ComposeFileError(file, startLine, 'not a `KEY=value` line');
    }
    const key = match[1] ?? '';
    if (match[2] === '') {
      // `KEY` alone sets nothing.
      i = end === -1 ? text.length : end + 1;
      line++;
      continue;
    }
    let pos = i + match[0].length;
    const quote = text[pos];
    let value: string;
    if (quote === '"' || quote === "'") {
      let j = pos + 1;
      let raw = '';
      while (j < text.length && text[j] !== quote) {
        if (quote === '"' && text[j] === '\\' && j + 1 < text.length) {
          raw += text.slice(j, j + 2);
          j += 2;
          continue;
        }
        if (text[j] === '\n') line++;
        raw += text[j] ?? '';
        j++;
      }
      if (j >= text.length)
        throw new ComposeFileError(
          file,
          startLine,
          `the value of ${key} opens a ${quote} quote that is not closed`,
        );
      value = quote === "'" ? raw : substitute(unescape(raw), lookup, where(key));
      pos = j + 1;
      const next = text.indexOf('\n', pos);
      i = next === -1 ? text.length : next + 1;
    } else {
      const rest = text.slice(pos, end === -1 ? text.length : end).replace(/\r$/, '');
      const comment = rest.search(/\s#/);
      const raw = (comment === -1 ? rest : rest.slice(0, comment)).trim();
      value = substitute(raw, lookup, where(key));
      i = end === -1 ? text.length : end + 1;
    }
    values.set(key, value);
    line++;
  }
  return values;
}

/** Double-quote escapes; `\$` is a literal `$` (written `$$` for the interpolation after it). */
function unescape(raw: string): string {
  return raw.replace(/\\(.)/g, (_, ch: string) =>
    ch === 'n' ? '\n' : ch === 't' ? '\t' : ch === 'r' ? '\r' : ch === '$' ? '$$' : ch,
  );
}
