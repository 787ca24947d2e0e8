import {
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseAllDocuments,
  visit,
  type Alias,
  type Document,
  type Node,
} from 'yaml';
import {
  CORE_SCHEMA,
  defineMappingTag,
  defineScalarTag,
  defineSequenceTag,
  loadAll,
  mergeTag,
  NOT_RESOLVED,
  YAMLException,
} from 'js-yaml';
import { ComposeFileError } from './errors.js';
import { ExpansionError, expandAliases } from './expand.js';
import { setKey, type Json, type JsonObject } from './json.js';
import type { ParseLimits } from './limits.js';
import { tagged, tagOf, type ComposeTag } from './tags.js';

/**
 * Parse one compose file into fresh JSON trees, one per YAML document (compose merges the
 * documents of a file in order, like `-f` files): YAML 1.2 core schema, merge keys, and
 * compose's `!reset` and `!override` as markers for the merge; any other application tag is
 * refused, never executed.
 *
 * js-yaml reads the file; what it refuses but compose's go-yaml reads — a flow collection closed
 * at its key's indentation ("deficient indentation") — is read again with the `yaml` package
 * (eemeli), which accepts it. js-yaml stays the first reader because it is 3–7 times faster on
 * compose files (a 9-service file: 3.1 ms against 9.3 ms; 600 KB of flow mappings: 0.26 s
 * against 1.8 s), and a given file always takes the same path, so its hash does not depend on
 * which parser could have read it.
 *
 * Bounded: the file's size, and the tree once aliases are expanded (32 bytes per node plus
 * every string, and the nesting depth), counted while it is built, so a "billion laughs" file
 * stops long before memory or time matter. Throws a ComposeFileError naming the file and line.
 */
export function parseComposeDocuments(file: string, content: Uint8Array, limits: ParseLimits): JsonObject[] {
  if (content.byteLength > limits.maxFileBytes) {
    throw new ComposeFileError(
      file,
      null,
      `file is ${content.byteLength} bytes, more than the limit of ${limits.maxFileBytes}`,
    );
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(content);
  } catch (error) {
    throw new ComposeFileError(file, null, 'file is not valid UTF-8', { cause: error });
  }
  let raw: unknown[];
  try {
    raw = loadAll(text, { schema: SCHEMA, filename: file });
  } catch (error) {
    if (!(error instanceof YAMLException)) throw error;
    if (/deficient indentation/.test(error.reason)) return parseLeniently(file, text, limits);
    const line = error.mark ? error.mark.line + 1 : null;
    const tag = /^unknown (?:scalar |sequence |mapping )?tag !<([^>]*)>/.exec(error.reason)?.[1];
    const reason =
      tag === undefined
        ? `invalid YAML: ${error.reason}`
        : `unsupported tag \`${tag}\` (compose knows \`!reset\` and \`!override\`)`;
    throw new ComposeFileError(file, line, reason, { cause: error });
  }
  const out: JsonObject[] = [];
  let budget = limits.maxExpandedBytes;
  for (const document of raw) {
    if (document === null || document === undefined) continue;
    let value: Json;
    try {
      value = expandAliases(document, budget, limits.maxDepth);
    } catch (error) {
      if (error instanceof ExpansionError)
        throw new ComposeFileError(file, null, error.message, { cause: error });
      throw error;
    }
    budget -= estimate(value);
    out.push(topMapping(file, value, null));
  }
  if (out.length === 0) throw new ComposeFileError(file, null, 'the file is empty (no YAML document)');
  return out;
}

/** What a document used of the expansion budget (the next document of the file gets the rest). */
function estimate(value: Json): number {
  return JSON.stringify(value).length;
}

function topMapping(file: string, value: Json, line: number | null): JsonObject {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value;
  const what = value === null ? 'nothing' : Array.isArray(value) ? 'a sequence' : `a ${typeof value}`;
  throw new ComposeFileError(file, line ?? 1, `expected a mapping at the top, found ${what}`);
}

/** compose's tags, for every kind of node they may stand on (load only). */
const TAG_TYPES = (['reset', 'override'] as const).flatMap((tag) => [
  defineScalarTag<JsonObject>(`!${tag}`, {
    resolve: (source) => tagged(tag, source === '' ? null : source),
    identify: () => false,
  }),
  defineSequenceTag<unknown[], JsonObject>(`!${tag}`, {
    create: () => [],
    addItem: (carrier, item) => {
      carrier.push(item);
    },
    finalize: (carrier) => tagged(tag, carrier as Json),
    identify: () => false,
  }),
  defineMappingTag<Map<string, unknown>, JsonObject>(`!${tag}`, {
    create: () => new Map(),
    addPair: (carrier, key, value) => {
      if (typeof key !== 'string' && typeof key !== 'number' && typeof key !== 'boolean' && key !== null) {
        return 'a mapping key must be a plain scalar';
      }
      carrier.set(String(key), value);
      return '';
    },
    has: (carrier, key) => carrier.has(String(key)),
    keys: (result) => Object.keys(tagOf(result)?.value ?? {}),
    get: (result, key) => {
      const inner = tagOf(result)?.value;
      return inner !== null && typeof inner === 'object' && !Array.isArray(inner)
        ? inner[String(key)]
        : undefined;
    },
    finalize: (carrier) => {
      const inner: Record<string, unknown> = {};
      for (const [key, value] of carrier) inner[key] = value;
      return tagged(tag, inner as Json);
    },
    identify: () => false,
  }),
]);
/**
 * Integers as compose's go-yaml reads a plain scalar (`strconv.ParseInt(s, 0, 64)` with `_`
 * removed): `010` is 8, `0b101` 5, `1_000` 1000, and one beyond 2^53 keeps every digit (as a
 * decimal string: JavaScript numbers would round it, and two different ids would hash alike).
 */
const GO_INT = /^[-+]?(?:0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|0[0-7]*|[1-9][0-9]*)$/;

function goInt(source: string): number | string | undefined {
  const plain = source.replace(/_/g, '');
  if (!GO_INT.test(plain) || /^[-+]?_|_$/.test(source)) return undefined;
  const digits = plain.replace(/^[-+]/, '');
  const big = BigInt(/^0[0-7]+$/.test(digits) ? `0o${digits.slice(1)}` : digits);
  const value = plain.startsWith('-') ? -big : big;
  const number = Number(value);
  return Number.isSafeInteger(number) ? number : value.toString();
}
const goIntTag = defineScalarTag<number | string>('tag:yaml.org,2002:int', {
  implicit: true,
  implicitFirstChars: ['-', '+', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  resolve: (source) => goInt(source) ?? NOT_RESOLVED,
  identify: () => false,
});
const SCHEMA = CORE_SCHEMA.withTags(mergeTag, goIntTag, ...TAG_TYPES);

/** The `yaml` package's reading, for a file js-yaml refuses but compose reads. */
function parseLeniently(file: string, text: string, limits: ParseLimits): JsonObject[] {
  const lines = new LineCounter();
  const documents = parseAllDocuments(text, {
    version: '1.2',
    merge: true,
    // Checked by the converter with a set: the package's own check is quadratic in the keys.
    uniqueKeys: false,
    lineCounter: lines,
    prettyErrors: false,
  });
  if (!Array.isArray(documents)) return [];
  const lineOf = (offset: number | undefined): number | null =>
    offset === undefined ? null : lines.linePos(offset).line;
  const out: JsonObject[] = [];
  const budget = { used: 0 };
  for (const doc of documents) {
    const [error] = doc.errors;
    if (error !== undefined) {
      throw new ComposeFileError(file, lineOf(error.pos[0]), `invalid YAML: ${firstLine(error.message)}`);
    }
    if (doc.contents === null) continue;
    const value = new Converter(
      doc,
      limits,
      budget,
      (node, reason) => new ComposeFileError(file, lineOf(node.range?.[0]), reason),
    ).convert(doc.contents, 0);
    out.push(topMapping(file, value, lineOf(doc.contents.range[0])));
  }
  if (out.length === 0) throw new ComposeFileError(file, null, 'the file is empty (no YAML document)');
  return out;
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '');
}

const NODE_COST = 32;
const CORE_TAGS = new Set(
  ['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((t) => `tag:yaml.org,2002:${t}`),
);
const TAGS: ReadonlyMap<string, ComposeTag> = new Map([
  ['!reset', 'reset'],
  ['!override', 'override'],
]);

class Converter {
  readonly #open = new Set<Node>();
  /** Each alias's node: the latest anchor of its name before it (Alias.resolve searches the whole document every time). */
  readonly #targets = new Map<Alias, Node>();

  constructor(
    doc: Document.Parsed,
    private readonly limits: ParseLimits,
    private readonly budget: { used: number },
    private readonly fail: (node: Node, reason: string) => ComposeFileError,
  ) {
    const anchors = new Map<string, Node>();
    visit(doc, {
      Node: (_key, node) => {
        if (isAlias(node)) {
          const target = anchors.get(node.source);
          if (target !== undefined) this.#targets.set(node, target);
        } else if (node.anchor !== undefined) anchors.set(node.anchor, node);
      },
    });
  }

  #spend(node: Node, bytes: number): void {
    this.budget.used += bytes;
    if (this.budget.used > this.limits.maxExpandedBytes) {
      throw this.fail(
        node,
        `the document is larger than ${this.limits.maxExpandedBytes} bytes once aliases are expanded (alias bomb?)`,
      );
    }
  }

  convert(node: unknown, depth: number): Json {
    if (node === null || node === undefined) return null;
    const at = node as Node;
    this.#spend(at, NODE_COST);
    if (depth >= this.limits.maxDepth)
      throw this.fail(at, `nesting deeper than ${this.limits.maxDepth} levels`);
    if (isAlias(node)) {
      const target = this.#targets.get(node);
      if (target === undefined) throw this.fail(at, `unknown alias \`*${node.source}\``);
      if (this.#open.has(target)) throw this.fail(at, 'an alias refers to a node that contains it');
      this.#open.add(target);
      try {
        return this.convert(target, depth + 1);
      } finally {
        this.#open.delete(target);
      }
    }
    const value = this.#plain(at, depth);
    const tag = at.tag;
    if (tag === undefined || CORE_TAGS.has(tag)) return value;
    const known = TAGS.get(tag);
    if (known === undefined)
      throw this.fail(at, `unsupported tag \`${tag}\` (compose knows \`!reset\` and \`!override\`)`);
    return tagged(known, value);
  }

  #plain(node: Node, depth: number): Json {
    if (isScalar(node)) {
      if (node.type === 'PLAIN' && node.tag === undefined && typeof node.source === 'string') {
        const int = goInt(node.source);
        if (int !== undefined) return int;
      }
      const value: unknown = node.value;
      if (value === null || typeof value === 'boolean' || typeof value === 'number') return value;
      if (typeof value === 'bigint') return Number(value);
      if (typeof value === 'string') {
        this.#spend(node, value.length);
        return value;
      }
      throw this.fail(node, 'unsupported value (only mappings, sequences and scalars are allowed)');
    }
    if (isSeq(node)) return node.items.map((item) => this.convert(item, depth + 1));
    if (isMap(node)) {
      const out: JsonObject = {};
      const merged: JsonObject[] = [];
      for (const pair of node.items) {
        const keyNode = pair.key as Node | null;
        if (isScalar(keyNode) && typeof keyNode.value === 'symbol') {
          // `<<: *defaults` or `<<: [*a, *b]`: mappings merged under the explicit keys.
          const source = this.convert(pair.value, depth + 1);
          for (const item of Array.isArray(source) ? source : [source]) {
            if (item === null || typeof item !== 'object' || Array.isArray(item)) {
              throw this.fail(keyNode, 'a merge key (`<<`) needs a mapping or a list of mappings');
            }
            merged.push(item);
          }
          continue;
        }
        const key = this.#key(keyNode);
        this.#spend(node, key.length);
        if (Object.hasOwn(out, key))
          throw this.fail(keyNode ?? node, `invalid YAML: duplicated mapping key \`${key}\``);
        define(out, key, this.convert(pair.value, depth + 1));
      }
      for (const source of merged) {
        for (const [key, value] of Object.entries(source))
          if (!Object.hasOwn(out, key)) define(out, key, value);
      }
      return out;
    }
    throw this.fail(node, 'unsupported YAML node');
  }

  #key(key: Node | null): string {
    if (key === null) return 'null';
    if (isScalar(key)) {
      const value: unknown = key.value;
      if (typeof value === 'string') return value;
      if (value === null) return 'null';
      if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
        return String(value);
    }
    throw this.fail(key, 'a mapping key must be a plain scalar');
  }
}

const define = setKey;
