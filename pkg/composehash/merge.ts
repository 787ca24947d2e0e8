import { canonicalJson, isObject, setKey, type Json, type JsonObject } from './json.js';
import { tagOf, untag } from './tags.js';

/**
 * Merge a later compose document over an earlier one the way compose does (compose-spec "Merge
 * and override"), both already in canonical form (canonical.ts), so that list and mapping
 * spellings merge alike: mappings merge key by key (`environment`, `labels`, `depends_on`,
 * `networks`, `build` …); `command`, `entrypoint` and `healthcheck.test` are replaced;
 * `volumes` merge by target, `secrets` and `configs` by target or source, `env_file` by path,
 * other sequences are appended without duplicates; an `x-*` key and a value of another type
 * are replaced; `logging` merges only for the same driver. In the later document `!reset`
 * removes the key and `!override` replaces the value whole. The earlier document's own tags
 * are plain values (see tags.ts).
 */
export function mergeCompose(base: JsonObject, override: JsonObject): JsonObject {
  return mergeObjects(untag(base) as JsonObject, override, []);
}

/** A document merged over nothing: its tags resolved as the first file's are. */
export function plainDocument(doc: JsonObject): JsonObject {
  return untag(doc) as JsonObject;
}

const REPLACED = new Set(['services.*.command', 'services.*.entrypoint', 'services.*.healthcheck.test']);
const BY_KEY: Readonly<Record<string, (item: Json) => string | null>> = {
  'services.*.volumes': (item) => field(item, 'target'),
  'services.*.secrets': (item) => field(item, 'target') ?? field(item, 'source'),
  'services.*.configs': (item) => field(item, 'target') ?? field(item, 'source'),
  'services.*.env_file': (item) => field(item, 'path'),
  'services.*.devices': (item) =>
    typeof item === 'string' ? (item.split(':')[1] ?? item) : field(item, 'target'),
};

function field(item: Json, key: string): string | null {
  if (!isObject(item)) return null;
  const value = item[key];
  return typeof value === 'string' ? value : null;
}

function pattern(path: readonly string[]): string {
  return path.map((part, i) => (i === 1 && path[0] === 'services' ? '*' : part)).join('.');
}

function mergeObjects(base: JsonObject, override: JsonObject, path: readonly string[]): JsonObject {
  const reset = new Set(Object.keys(override).filter((key) => tagOf(override[key])?.tag === 'reset'));
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(base)) {
    if (!reset.has(key)) setKey(out, key, value);
  }
  for (const [key, value] of Object.entries(override)) {
    if (reset.has(key)) continue;
    const mark = tagOf(value);
    const plain = (mark === undefined ? value : untag(mark.value)) ?? null;
    const previous = base[key];
    const replace = mark?.tag === 'override' || previous === undefined || key.startsWith('x-');
    setKey(out, key, replace ? (untag(plain) ?? null) : mergeValues(previous, plain, [...path, key]));
  }
  return out;
}

function mergeValues(base: Json, override: Json, path: readonly string[]): Json {
  const where = pattern(path);
  if (REPLACED.has(where)) return untag(override) ?? null;
  if (where === 'services.*.logging' && isObject(base) && isObject(override)) {
    const [a, b] = [base['driver'], override['driver']];
    if (a !== undefined && b !== undefined && a !== b) return untag(override) ?? null;
  }
  if (isObject(base) && isObject(override)) return mergeObjects(base, override, path);
  if (Array.isArray(base) && Array.isArray(override)) {
    const plain = override.map((item) => untag(item) ?? null);
    const key = BY_KEY[where];
    return key === undefined ? appendUnique(base, plain) : mergeBy(base, plain, key);
  }
  return untag(override) ?? null;
}

function appendUnique(base: readonly Json[], override: readonly Json[]): Json[] {
  const seen = new Set(base.map(canonicalJson));
  const out = [...base];
  for (const item of override) {
    const key = canonicalJson(item);
    if (!seen.has(key)) {
      seen.add(key);
      out.push(item);
    }
  }
  return out;
}

/** Entries of the override replace base entries with the same key, in place. */
function mergeBy(
  base: readonly Json[],
  override: readonly Json[],
  keyOf: (item: Json) => string | null,
): Json[] {
  const out = [...base];
  for (const item of override) {
    const key = keyOf(item);
    const index = key === null ? -1 : out.findIndex((existing) => keyOf(existing) === key);
    if (index === -1) out.push(item);
    else out[index] = item;
  }
  return out;
}
