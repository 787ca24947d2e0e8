import { CORE_SCHEMA, loadAll, mergeTag, YAMLException } from 'js-yaml';
import { ComposeFileError } from './errors.js';
import { ExpansionError, expandAliases } from './expand.js';
import { isObject, type JsonObject } from './json.js';
import type { ParseLimits } from './limits.js';

/**
 * YAML 1.2 core schema plus merge keys (`<<: *defaults`, common in compose files and supported
 * by compose). No other tags: compose's own `!reset`/`!override` are rejected, never executed.
 */
const SCHEMA = CORE_SCHEMA.withTags(mergeTag);

export interface ParseOptions {
  /** The main compose file needs `services`; an override file may leave it out. */
  readonly requireServices: boolean;
}

/**
 * Parse one compose file safely into a fresh JSON tree: bounded size, bounded alias expansion,
 * a mapping at the top with a `services` mapping of mappings. Throws a ComposeFileError naming
 * the file and, where known, the line.
 */
export function parseComposeFile(
  file: string,
  content: Uint8Array,
  limits: ParseLimits,
  options: ParseOptions,
): JsonObject {
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
  let documents: unknown[];
  try {
    documents = loadAll(text, { schema: SCHEMA, filename: file });
  } catch (error) {
    if (error instanceof YAMLException) {
      const line = error.mark ? error.mark.line + 1 : null;
      throw new ComposeFileError(file, line, `invalid YAML: ${error.reason}`, { cause: error });
    }
    throw new ComposeFileError(file, null, `invalid YAML: ${String(error)}`, { cause: error });
  }
  if (documents.length > 1)
    throw new ComposeFileError(file, null, 'expected one YAML document, found several');
  let doc;
  try {
    doc = expandAliases(documents[0] ?? null, limits.maxExpandedBytes, limits.maxDepth);
  } catch (error) {
    if (error instanceof ExpansionError)
      throw new ComposeFileError(file, null, error.message, { cause: error });
    throw error;
  }
  return checkShape(file, text, doc, options);
}

function checkShape(file: string, text: string, doc: unknown, options: ParseOptions): JsonObject {
  if (!isObject(doc)) {
    const what = doc === null ? 'an empty document' : Array.isArray(doc) ? 'a sequence' : `a ${typeof doc}`;
    throw new ComposeFileError(file, doc === null ? null : 1, `expected a mapping at the top, found ${what}`);
  }
  const services = doc['services'];
  if (services === undefined) {
    if (!options.requireServices) return doc;
    throw new ComposeFileError(file, null, 'no top-level `services` mapping');
  }
  const servicesLine = keyLine(text, 'services', 0);
  if (!isObject(services)) {
    throw new ComposeFileError(file, servicesLine, '`services` must be a mapping of service names');
  }
  for (const [name, service] of Object.entries(services)) {
    if (!isObject(service)) {
      throw new ComposeFileError(
        file,
        keyLine(text, name, servicesLine ?? 0),
        `service \`${name}\` must be a mapping, found ${service === null ? 'nothing' : typeof service}`,
      );
    }
  }
  return doc;
}

/**
 * Best-effort 1-based line of `key:` at or after line `after` (top level when `after` is 0,
 * indented otherwise), for messages about well-formed YAML with the wrong shape.
 */
function keyLine(text: string, key: string, after: number): number | null {
  const lines = text.split(/\r?\n/);
  const escaped = key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`^${after === 0 ? '' : '\\s+'}(["']?)${escaped}\\1\\s*:`);
  for (let i = after; i < lines.length; i++) {
    if (pattern.test(lines[i] ?? '')) return i + 1;
  }
  return null;
}
