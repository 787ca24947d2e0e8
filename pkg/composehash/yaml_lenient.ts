/**
 * The `yaml` package's reading (eemeli), for a file js-yaml refuses but compose's go-yaml reads:
 * converted to the same JSON tree as yaml.ts makes, with the same bounds.
 */
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
import { goInt, topMapping } from './yaml_shared.js';

export function parseLeniently(file: string, text: string, limits: ParseLimits): JsonObject[] {
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
        setKey(out, key, this.convert(pair.value, depth + 1));
      }
      for (const source of merged) {
        for (const [key, value] of Object.entries(source))
          if (!Object.hasOwn(out, key)) setKey(out, key, value);
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
