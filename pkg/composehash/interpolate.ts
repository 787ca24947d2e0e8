import { ComposeFileError } from './errors.js';
import { isObject, setKey, type Json, type JsonObject } from './json.js';
import { mapTagged } from './tags.js';

/** A variable's value as compose would see it, or undefined when unset. */
export type Lookup = (name: string) => string | undefined;

/**
 * Substitute variables in every string value of a compose document the way compose does
 * (compose-spec "Interpolation"): `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
 * `${VAR:?error}`, `${VAR?error}`, `${VAR:+alternative}`, `${VAR+alternative}` (defaults and
 * alternatives interpolated themselves), `$$` for a literal `$`. An unset variable is empty.
 * Keys are not interpolated. Throws a ComposeFileError for a malformed reference or a required
 * variable without a value.
 */
export function interpolateDocument(doc: JsonObject, lookup: Lookup, file: string): JsonObject {
  const walk = (value: Json, path: string): Json =>
    mapTagged(value, (inner) => {
      if (typeof inner === 'string') return substitute(inner, lookup, () => at(file, path, inner));
      if (Array.isArray(inner)) return inner.map((item, i) => walk(item, `${path}[${i}]`));
      if (!isObject(inner)) return inner;
      const out: JsonObject = {};
      for (const [key, item] of Object.entries(inner)) {
        setKey(out, key, walk(item, path === '' ? key : `${path}.${key}`));
      }
      return out;
    });
  return walk(doc, '') as JsonObject;
}

/** Where a string being interpolated came from, for the error of a malformed reference. */
export interface Where {
  readonly raw: string;
  error(reason: string): ComposeFileError;
}

function at(file: string, path: string, raw: string): Where {
  return { raw, error: (reason) => new ComposeFileError(file, null, `${reason} (at \`${path}\`)`) };
}

const NAME = /^[_a-zA-Z][_a-zA-Z0-9]*/;
const OPERATORS = [':-', '-', ':?', '?', ':+', '+'] as const;

/** One string, interpolated. Exported for tests. */
export function substitute(text: string, lookup: Lookup, where: () => Where): string {
  if (!text.includes('$')) return text;
  let out = '';
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf('$', i);
    if (dollar === -1) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, dollar);
    const next = text[dollar + 1];
    if (next === '$') {
      out += '$';
      i = dollar + 2;
      continue;
    }
    if (next === '{') {
      const end = closingBrace(text, dollar + 2);
      if (end === -1) {
        throw where().error(
          `invalid interpolation format: \`${where().raw}\` (a \`\${\` is not closed; write \`$$\` for a literal \`$\`)`,
        );
      }
      out += braced(text.slice(dollar + 2, end), lookup, where);
      i = end + 1;
      continue;
    }
    const name = NAME.exec(text.slice(dollar + 1))?.[0];
    if (name === undefined) {
      // `$1`, `$@`, a lone `$`: compose keeps them as they are.
      out += '$';
      i = dollar + 1;
      continue;
    }
    out += lookup(name) ?? '';
    i = dollar + 1 + name.length;
  }
  return out;
}

/** Index of the `}` closing a `${` whose content starts at `from`, or -1. */
function closingBrace(text: string, from: number): number {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    const ch = text[i];
    if (ch === '$' && text[i + 1] === '$') i++;
    else if (ch === '$' && text[i + 1] === '{') {
      depth++;
      i++;
    } else if (ch === '}') {
      if (depth === 0) return i;
      depth--;
    }
  }
  return -1;
}

function braced(content: string, lookup: Lookup, where: () => Where): string {
  const name = NAME.exec(content)?.[0];
  if (name === undefined) throw where().error(`invalid interpolation format: \`${where().raw}\``);
  const rest = content.slice(name.length);
  const value = lookup(name);
  if (rest === '') return value ?? '';
  const op = OPERATORS.find((candidate) => rest.startsWith(candidate));
  if (op === undefined) throw where().error(`invalid interpolation format: \`${where().raw}\``);
  const arg = (): string => substitute(rest.slice(op.length), lookup, where);
  const unset = value === undefined;
  const empty = unset || value === '';
  switch (op) {
    case ':-':
      return empty ? arg() : value;
    case '-':
      return unset ? arg() : value;
    case ':?':
    case '?':
      if (op === ':?' ? empty : unset) {
        const message = arg();
        throw where().error(
          `required variable ${name} is missing a value${message === '' ? '' : `: ${message}`}`,
        );
      }
      return value ?? '';
    case ':+':
      return empty ? '' : arg();
    case '+':
      return unset ? '' : arg();
  }
}
