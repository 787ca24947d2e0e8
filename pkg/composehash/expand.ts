import { setKey, type Json, type JsonObject } from './json.js';
import { tagged, tagOf } from './tags.js';

/** Why {@link expandAliases} gave up; the caller turns it into a ComposeFileError. */
export class ExpansionError extends Error {
  override readonly name = 'ExpansionError';
}

const NODE_COST = 32;

/**
 * Copy js-yaml's output into a fresh JSON tree, expanding the object graph that YAML aliases
 * share (compose's `!reset`/`!override` markers copied with their tag). js-yaml returns one object for every use of an alias, so a 1 KB "billion laughs" file
 * is a tiny graph and an astronomically large tree: the copy counts what it produces and stops
 * as soon as `maxBytes` (32 per node plus string lengths) or `maxDepth` is passed, long before
 * memory or time matter. A cycle (an alias inside its own anchor) is rejected too.
 */
export function expandAliases(value: unknown, maxBytes: number, maxDepth: number): Json {
  let used = 0;
  const open = new Set<object>();

  const spend = (bytes: number): void => {
    used += bytes;
    if (used > maxBytes) {
      throw new ExpansionError(
        `the document is larger than ${maxBytes} bytes once aliases are expanded (alias bomb?)`,
      );
    }
  };

  const copy = (node: unknown, depth: number): Json => {
    spend(NODE_COST);
    if (node === null || typeof node === 'boolean' || typeof node === 'number') return node;
    if (typeof node === 'string') {
      spend(node.length);
      return node;
    }
    if (typeof node !== 'object') throw new ExpansionError(`unsupported value of type ${typeof node}`);
    if (depth >= maxDepth) throw new ExpansionError(`nesting deeper than ${maxDepth} levels`);
    if (open.has(node)) throw new ExpansionError('an alias refers to a node that contains it');
    open.add(node);
    try {
      if (Array.isArray(node)) return node.map((item: unknown) => copy(item, depth + 1));
      const mark = tagOf(node as Json);
      if (mark !== undefined) return tagged(mark.tag, copy(mark.value, depth + 1));
      const proto: unknown = Object.getPrototypeOf(node);
      if (proto !== Object.prototype && proto !== null) {
        throw new ExpansionError('unsupported value (only mappings, sequences and scalars are allowed)');
      }
      const out: JsonObject = {};
      for (const key of Object.keys(node)) {
        spend(key.length);
        setKey(out, key, copy((node as Record<string, unknown>)[key], depth + 1));
      }
      return out;
    } finally {
      open.delete(node);
    }
  };

  return copy(value, 0);
}
