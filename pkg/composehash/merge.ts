import { canonicalJson, isObject, type Json, type JsonObject } from './json.js';

/**
 * Merge an override file over the main file the way `docker compose` does, in its main lines:
 * mappings merge key by key, scalars and mismatched types are replaced, and sequences follow
 * the compose-spec rules for the fields where they matter — `command`, `entrypoint` and
 * `healthcheck.test` are replaced; `environment`, `labels` and the like merge as mappings even
 * when written as `KEY=value` lists; `volumes`, `devices`, `configs` and `secrets` merge by
 * target; every other sequence is appended without duplicates.
 */
export function mergeCompose(base: JsonObject, override: JsonObject): JsonObject {
  return mergeObjects(base, override, []);
}

const REPLACED = new Set(['services.*.command', 'services.*.entrypoint', 'services.*.healthcheck.test']);
const AS_MAPPING = new Set([
  'services.*.environment',
  'services.*.labels',
  'services.*.annotations',
  'services.*.extra_hosts',
  'services.*.sysctls',
  'services.*.build.args',
  'services.*.build.labels',
]);
const BY_TARGET = new Set([
  'services.*.volumes',
  'services.*.devices',
  'services.*.configs',
  'services.*.secrets',
]);

function pattern(path: readonly string[]): string {
  return path.map((part, i) => (i === 1 && path[0] === 'services' ? '*' : part)).join('.');
}

function mergeObjects(base: JsonObject, override: JsonObject, path: readonly string[]): JsonObject {
  const out: JsonObject = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const previous = base[key];
    out[key] = previous === undefined ? value : mergeValues(previous, value, [...path, key]);
  }
  return out;
}

function mergeValues(base: Json, override: Json, path: readonly string[]): Json {
  const where = pattern(path);
  if (REPLACED.has(where)) return override;
  if (AS_MAPPING.has(where) && (Array.isArray(base) || Array.isArray(override))) {
    return mergeObjects(asMapping(base), asMapping(override), path);
  }
  if (isObject(base) && isObject(override)) return mergeObjects(base, override, path);
  if (Array.isArray(base) && Array.isArray(override)) {
    return BY_TARGET.has(where) ? mergeByTarget(base, override) : appendUnique(base, override);
  }
  return override;
}

/** `["A=1", "B"]` → `{A: "1", B: null}`; a mapping stays as it is. */
function asMapping(value: Json): JsonObject {
  if (isObject(value)) return value;
  const out: JsonObject = {};
  if (!Array.isArray(value)) return out;
  for (const item of value) {
    const text = typeof item === 'string' ? item : canonicalJson(item);
    const eq = text.indexOf('=');
    if (eq === -1) out[text] = null;
    else out[text.slice(0, eq)] = text.slice(eq + 1);
  }
  return out;
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

/** Entries of the override replace base entries with the same target, in place. */
function mergeByTarget(base: readonly Json[], override: readonly Json[]): Json[] {
  const out = [...base];
  for (const item of override) {
    const target = targetOf(item);
    const index = target === null ? -1 : out.findIndex((existing) => targetOf(existing) === target);
    if (index === -1) out.push(item);
    else out[index] = item;
  }
  return out;
}

/** Container-side target: `src:/dst[:mode]` → `/dst`; `{target}` or `{source}` for long syntax. */
function targetOf(item: Json): string | null {
  if (typeof item === 'string') {
    const parts = item.split(':');
    return parts.length >= 2 ? (parts[1] ?? null) : item;
  }
  if (isObject(item)) {
    const target = item['target'] ?? item['source'];
    return typeof target === 'string' ? target : null;
  }
  return null;
}
