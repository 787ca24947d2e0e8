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
import type { Json, JsonObject } from './json.js';
import type { ParseLimits } from './limits.js';
import { tagged, tagOf } from './tags.js';
import { goInt, topMapping } from './yaml_shared.js';
import { parseLeniently } from './yaml_lenient.js';

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
const goIntTag = defineScalarTag<number | string>('tag:yaml.org,2002:int', {
  implicit: true,
  implicitFirstChars: ['-', '+', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  resolve: (source) => goInt(source) ?? NOT_RESOLVED,
  identify: () => false,
});
const SCHEMA = CORE_SCHEMA.withTags(mergeTag, goIntTag, ...TAG_TYPES);
