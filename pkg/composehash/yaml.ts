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
import { ComposeFileError } from './errors.js';
import { setKey, type Json, type JsonObject } from './json.js';
import type { ParseLimits } from './limits.js';
import { tagged, type ComposeTag } from './tags.js';

/**
 * Parse one compose file into fresh JSON trees, one per YAML document (compose merges the
 * documents of a file in order, like `-f` files). The `yaml` package (eemeli) reads what
 * compose's go-yaml reads where js-yaml does not (a flow collection closed at its key's
 * indentation) and keeps the tags on the syntax tree, so compose's `!reset` and `!override`
 * become markers for the merge; any other application tag is refused, never executed.
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
  const lines = new LineCounter();
  const documents = parseAllDocuments(text, {
    version: '1.2',
    merge: true,
    uniqueKeys: true,
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
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      const what = value === null ? 'nothing' : Array.isArray(value) ? 'a sequence' : `a ${typeof value}`;
      throw new ComposeFileError(
        file,
        lineOf(doc.contents.range[0]),
        `expected a mapping at the top, found ${what}`,
      );
    }
    out.push(value);
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
