import type { Lookup } from './interpolate.js';
import { asList as list, isObject, setKey, type Json, type JsonObject } from './json.js';
import { isRemote, rebase } from './paths.js';
import { hostEntries, portEntries, shellSplit, volumeEntry } from './short_syntax.js';
import { mapTagged } from './tags.js';

/**
 * Defaults compose fills in once every file is merged (`build.context` `.`, `build.dockerfile`
 * `Dockerfile`), so that writing them out changes nothing; `extra_hosts` sorted.
 */
export function withDefaults(doc: JsonObject): JsonObject {
  const services = doc['services'];
  if (!isObject(services)) return doc;
  return {
    ...doc,
    services: mapValues(services, (service) => {
      if (!isObject(service)) return service;
      const out: JsonObject = { ...service };
      if (isObject(service['build'])) {
        const build: JsonObject = { context: '.', ...service['build'] };
        if (build['dockerfile'] === undefined && build['dockerfile_inline'] === undefined) {
          build['dockerfile'] = 'Dockerfile';
        }
        out['build'] = build;
      }
      // The lists of two merged files, sorted again as compose sorts them.
      if (service['extra_hosts'] !== undefined) out['extra_hosts'] = hostEntries(service['extra_hosts']);
      return out;
    }),
  };
}

/**
 * One compose document in compose's long forms, as compose-go's `transform` package writes them
 * before merging: spellings compose treats alike become one (`environment` list or mapping,
 * `depends_on` short or long, `ports` and `volumes` short or long, `build: ./dir`, `env_file: a`
 * …), so merges see one shape and hashes do not move when only the spelling does. Relative paths
 * are rewritten relative to the stack directory: `base` is the directory they are relative to
 * (the project directory for `-f` files, the declaring file's directory for included and
 * extended ones), itself relative to the stack directory. Values that need
 * the environment (`environment: [FOO]`) take it from `lookup`. Tagged values (`!reset`,
 * `!override`) keep their tag.
 */
export function canonicalDocument(doc: JsonObject, base: string, lookup: Lookup): JsonObject {
  const out: JsonObject = { ...doc };
  const services = doc['services'];
  if (isObject(services)) {
    out['services'] = mapTagged(services, (inner) =>
      isObject(inner)
        ? mapValues(inner, (service) =>
            mapTagged(service, (s) => (isObject(s) ? canonicalService(s, base, lookup) : s)),
          )
        : inner,
    );
  }
  for (const section of ['networks', 'volumes', 'configs', 'secrets'] as const) {
    const defs = doc[section];
    if (!isObject(defs)) continue;
    out[section] = mapValues(defs, (def) =>
      mapTagged(def, (d) => {
        if (d === null) return {};
        if (!isObject(d)) return d;
        const file = d['file'];
        return typeof file === 'string' && (section === 'configs' || section === 'secrets')
          ? { ...d, file: rebase(file, base) }
          : d;
      }),
    );
  }
  const include = doc['include'];
  if (include !== undefined)
    out['include'] = mapTagged(include, (inner) => list(inner).map((item) => includeEntry(item, base)));
  return out;
}

type Transform = (value: Json, base: string, lookup: Lookup) => Json;

const SERVICE: Record<string, Transform> = {
  build: (value, base, lookup) => {
    const build: JsonObject =
      typeof value === 'string' ? { context: value } : isObject(value) ? { ...value } : {};
    if (!isObject(value) && typeof value !== 'string') return value;
    const context = build['context'];
    if (typeof context === 'string' && !isRemote(context)) build['context'] = rebase(context, base);
    for (const key of ['args', 'labels'] as const) {
      if (build[key] !== undefined)
        build[key] = keyValues(build[key], key === 'args' ? lookup : undefined, key === 'labels' ? '' : null);
    }
    const contexts = build['additional_contexts'];
    if (contexts !== undefined) {
      build['additional_contexts'] = mapValues(keyValues(contexts, undefined, null) as JsonObject, (v) =>
        typeof v === 'string' && !isRemote(v) && !/^(docker-image|service|target|oci-layout):/.test(v)
          ? rebase(v, base)
          : v,
      );
    }
    for (const key of ['secrets', 'cache_from', 'cache_to', 'tags', 'platforms', 'ssh'] as const) {
      if (typeof build[key] === 'string') build[key] = [build[key]];
    }
    if (Array.isArray(build['secrets'])) build['secrets'] = build['secrets'].map(sourceEntry);
    return build;
  },
  command: (value) => (typeof value === 'string' ? shellSplit(value) : value),
  entrypoint: (value) => (typeof value === 'string' ? shellSplit(value) : value),
  depends_on: (value) => {
    const out: JsonObject = {};
    if (Array.isArray(value)) {
      for (const name of value)
        if (typeof name === 'string') setKey(out, name, { condition: 'service_started', required: true });
      return out;
    }
    if (!isObject(value)) return value;
    for (const [name, dep] of Object.entries(value)) {
      setKey(
        out,
        name,
        mapTagged(dep, (d) => ({
          ...(isObject(d) ? d : {}),
          condition: (isObject(d) ? d['condition'] : undefined) ?? 'service_started',
          required: (isObject(d) ? d['required'] : undefined) ?? true,
        })),
      );
    }
    return out;
  },
  env_file: (value, base) =>
    list(value).map((item) => {
      const entry: JsonObject =
        typeof item === 'string' ? { path: item } : isObject(item) ? { ...item } : { path: item };
      if (typeof entry['path'] === 'string') entry['path'] = rebase(entry['path'], base);
      entry['required'] ??= true;
      return entry;
    }),
  label_file: (value, base) =>
    list(value).map((item) => (typeof item === 'string' ? rebase(item, base) : item)),
  environment: (value, _base, lookup) => keyValues(value, lookup, null),
  labels: (value) => keyValues(value, undefined, ''),
  annotations: (value) => keyValues(value, undefined, ''),
  sysctls: (value) => keyValues(value, undefined, ''),
  extra_hosts: (value) => hostEntries(value),
  networks: (value) => {
    if (Array.isArray(value))
      return Object.fromEntries(value.filter((n) => typeof n === 'string').map((n) => [n, null]));
    if (!isObject(value)) return value;
    return mapValues(value, (v) =>
      mapTagged(v, (n) => (isObject(n) && Object.keys(n).length === 0 ? null : n)),
    );
  },
  ports: (value) => (Array.isArray(value) ? value.flatMap(portEntries) : value),
  expose: (value) => list(value).map((item) => (typeof item === 'number' ? String(item) : item)),
  volumes: (value, base) => (Array.isArray(value) ? value.map((item) => volumeEntry(item, base)) : value),
  secrets: (value) => list(value).map(sourceEntry),
  configs: (value) => list(value).map(sourceEntry),
  extends: (value, base) => {
    const ext: JsonObject =
      typeof value === 'string' ? { service: value } : isObject(value) ? { ...value } : {};
    if (typeof ext['file'] === 'string') ext['file'] = rebase(ext['file'], base);
    return typeof value === 'string' || isObject(value) ? ext : value;
  },
  dns: (value) => list(value),
  dns_search: (value) => list(value),
  dns_opt: (value) => list(value),
  tmpfs: (value) => list(value),
  healthcheck: (value) => {
    if (!isObject(value)) return value;
    const test = value['test'];
    return typeof test === 'string' ? { ...value, test: ['CMD-SHELL', test] } : value;
  },
};

function canonicalService(service: JsonObject, base: string, lookup: Lookup): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(service)) {
    const transform = SERVICE[key];
    setKey(out, key, transform === undefined ? value : mapTagged(value, (v) => transform(v, base, lookup)));
  }
  return out;
}

function includeEntry(item: Json, base: string): Json {
  const entry: JsonObject = typeof item === 'string' ? { path: [item] } : isObject(item) ? { ...item } : {};
  if (!isObject(item) && typeof item !== 'string') return item;
  entry['path'] = list(entry['path']).map((p) => (typeof p === 'string' ? rebase(p, base) : p));
  if (typeof entry['project_directory'] === 'string')
    entry['project_directory'] = rebase(entry['project_directory'], base);
  if (entry['env_file'] !== undefined) {
    entry['env_file'] = list(entry['env_file']).map((p) => (typeof p === 'string' ? rebase(p, base) : p));
  }
  return entry;
}

/** `KEY=value` lists → mappings; scalar values as strings; a bare `KEY` → `lookup(KEY)` or `bare`. */
function keyValues(value: Json, lookup: Lookup | undefined, bare: Json): Json {
  const out: JsonObject = {};
  const set = (key: string, raw: Json): void => {
    const resolved = raw === null ? (lookup?.(key) ?? bare) : typeof raw === 'object' ? raw : String(raw);
    setKey(out, key, resolved);
  };
  if (Array.isArray(value)) {
    for (const item of value) {
      if (typeof item !== 'string') continue;
      const eq = item.indexOf('=');
      if (eq === -1) set(item, null);
      else set(item.slice(0, eq), item.slice(eq + 1));
    }
    return out;
  }
  if (!isObject(value)) return value;
  for (const [key, raw] of Object.entries(value)) set(key, raw);
  return out;
}

/** `secret` → `{source: secret}`. */
function sourceEntry(item: Json): Json {
  return typeof item === 'string' ? { source: item } : item;
}

function mapValues(value: JsonObject, fn: (item: Json) => Json): JsonObject {
  const out: JsonObject = {};
  for (const [key, item] of Object.entries(value)) setKey(out, key, fn(item));
  return out;
}
