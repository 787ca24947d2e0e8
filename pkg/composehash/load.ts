import { posix } from 'node:path';
import { canonicalDocument, withDefaults } from './canonical.js';
import { parseDotEnv } from './dotenv.js';
import { ComposeFileError } from './errors.js';
import { interpolateDocument, type Lookup } from './interpolate.js';
import { canonicalJson, isObject, setKey, type JsonObject } from './json.js';
import type { ParseLimits } from './limits.js';
import { mergeCompose, plainDocument } from './merge.js';
import { untag } from './tags.js';
import { parseComposeDocuments } from './yaml.js';

/** What loading needs from the stack directory: a file's bytes by path relative to it. */
export type ReadFile = (path: string) => Uint8Array | undefined;

export interface LoadContext {
  /** A compose or `.env` file's bytes (a symbolic link is refused by the caller's reader). */
  readonly read: ReadFile;
  /** Files read so far for this stack, against MAX_FILE_LOADS (an include fan-out). */
  readonly loads: { count: number };
  readonly limits: ParseLimits;
  /** The environment compose runs with (stackd's own): it wins over `.env`. */
  readonly environment: Lookup;
}

export interface LoadedProject {
  /** The merged model: files and their documents in order, includes and extends resolved. */
  readonly document: JsonObject;
  /** Files the model was read from besides the `-f` files (included, extended). */
  readonly extraFiles: ReadonlySet<string>;
}

const SECTIONS = ['services', 'networks', 'volumes', 'configs', 'secrets'] as const;
const TOP_LEVEL = new Set(['version', 'name', 'include', ...SECTIONS, 'models']);
const MAX_NESTING = 16;
/**
 * Compose files read for one stack, included and extended ones counted each time: a file that
 * includes the next one three times, fifteen deep, would otherwise be read 3^15 times while the
 * controller's event loop waits.
 */
export const MAX_FILE_LOADS = 256;

/** The `.env` of a directory of the stack (`.` for the stack's own), or an empty map. */
export function readDotEnv(ctx: LoadContext, path: string): Map<string, string> {
  const content = ctx.read(path);
  if (content === undefined) return new Map<string, string>();
  if (content.byteLength > ctx.limits.maxFileBytes) {
    throw new ComposeFileError(
      path,
      null,
      `file is ${content.byteLength} bytes, more than the limit of ${ctx.limits.maxFileBytes}`,
    );
  }
  return parseDotEnv(path, content, ctx.environment);
}

/** `environment` first, then `.env` values: how compose resolves a variable. */
export function lookupWith(environment: Lookup, dotenv: ReadonlyMap<string, string>): Lookup {
  return (name) => environment(name) ?? dotenv.get(name);
}

/**
 * Load a project the way compose does: each file (and each YAML document of a file) is
 * interpolated, put in canonical form, has its `include`s and `extends` resolved, and is merged
 * over the files before it. `base` is the project directory relative to the stack directory;
 * files outside the stack directory are refused (stackd checks out only the stack's directory).
 */
export function loadProject(
  files: readonly string[],
  base: string,
  lookup: Lookup,
  ctx: LoadContext,
  chain: readonly string[] = [],
): LoadedProject {
  const extraFiles = new Set<string>();
  let merged: JsonObject | undefined;
  for (const file of files) {
    for (const raw of readDocuments(file, ctx, chain)) {
      checkTopLevel(file, raw);
      let doc = canonicalDocument(interpolateDocument(raw, lookup, file), base, lookup);
      doc = resolveExtends(doc, file, lookup, ctx, extraFiles, [...chain, file]);
      doc = resolveIncludes(doc, file, lookup, ctx, extraFiles, [...chain, file]);
      merged = merged === undefined ? plainDocument(doc) : mergeCompose(merged, doc);
    }
  }
  return { document: withDefaults(merged ?? {}), extraFiles };
}

function readDocuments(file: string, ctx: LoadContext, chain: readonly string[]): JsonObject[] {
  if (++ctx.loads.count > MAX_FILE_LOADS) {
    throw new ComposeFileError(
      stackPath(chain[0] ?? file),
      null,
      `more than ${MAX_FILE_LOADS} compose files read through include and extends (a loop of includes?)`,
    );
  }
  const content = ctx.read(stackPath(file));
  if (content === undefined) {
    const from = chain.at(-1);
    throw new ComposeFileError(
      from ?? file,
      null,
      `\`${stackPath(file)}\` does not exist in the stack directory`,
    );
  }
  return parseComposeDocuments(stackPath(file), content, ctx.limits);
}

function checkTopLevel(file: string, doc: JsonObject): void {
  for (const key of Object.keys(doc)) {
    if (!TOP_LEVEL.has(key) && !key.startsWith('x-')) {
      throw new ComposeFileError(
        stackPath(file),
        null,
        `unknown top-level key \`${key}\` (compose allows ${[...TOP_LEVEL].join(', ')} and x-*)`,
      );
    }
  }
  const services = doc['services'];
  if (services === undefined || services === null) return;
  if (!isObject(services))
    throw new ComposeFileError(stackPath(file), null, '`services` must be a mapping of service names');
  for (const [name, service] of Object.entries(services)) {
    if (!isObject(service)) {
      throw new ComposeFileError(
        stackPath(file),
        null,
        `service \`${name}\` must be a mapping, found ${service === null ? 'nothing' : typeof service}`,
      );
    }
  }
}

/** `./a/b.yaml` → `a/b.yaml` (a path already checked to stay inside the stack directory). */
function stackPath(path: string): string {
  return posix.normalize(path).replace(/^\.\//, '');
}

function inside(path: string, from: string, what: string): string {
  if (path.startsWith('/') || path === '..' || path.startsWith('../')) {
    throw new ComposeFileError(
      stackPath(from),
      null,
      `${what} \`${path}\` is outside the stack directory: stackd checks out only the stack's directory; move the file into it`,
    );
  }
  return stackPath(path);
}

function resolveExtends(
  doc: JsonObject,
  file: string,
  lookup: Lookup,
  ctx: LoadContext,
  extraFiles: Set<string>,
  chain: readonly string[],
): JsonObject {
  const services = doc['services'];
  if (!isObject(services)) return doc;
  const cache = new Map<string, JsonObject>();
  const resolve = (
    name: string,
    service: JsonObject,
    from: JsonObject,
    fromFile: string,
    seen: readonly string[],
  ): JsonObject => {
    const ext = service['extends'];
    if (!isObject(ext)) return service;
    const key = `${fromFile}#${name}`;
    if (seen.includes(key))
      throw new ComposeFileError(
        stackPath(fromFile),
        null,
        `\`extends\` of service \`${name}\` loops back to itself`,
      );
    if (seen.length > MAX_NESTING)
      throw new ComposeFileError(
        stackPath(fromFile),
        null,
        `\`extends\` nested more than ${MAX_NESTING} deep`,
      );
    const target = ext['service'];
    if (typeof target !== 'string')
      throw new ComposeFileError(
        stackPath(fromFile),
        null,
        `service \`${name}\`: \`extends.service\` must name a service`,
      );
    let baseDoc = from;
    let baseFile = fromFile;
    if (typeof ext['file'] === 'string') {
      baseFile = inside(ext['file'], fromFile, '`extends.file`');
      extraFiles.add(baseFile);
      const cached = cache.get(baseFile);
      if (cached === undefined) {
        const dir = posix.dirname(baseFile);
        let loaded: JsonObject | undefined;
        for (const raw of readDocuments(baseFile, ctx, [...chain, fromFile])) {
          const one = canonicalDocument(interpolateDocument(raw, lookup, baseFile), dir, lookup);
          loaded = loaded === undefined ? plainDocument(one) : mergeCompose(loaded, one);
        }
        baseDoc = loaded ?? {};
        cache.set(baseFile, baseDoc);
      } else baseDoc = cached;
    }
    const baseServices = baseDoc['services'];
    const parent = isObject(baseServices) ? baseServices[target] : undefined;
    if (!isObject(parent)) {
      throw new ComposeFileError(
        stackPath(fromFile),
        null,
        `service \`${name}\` extends \`${target}\`, which is not a service of \`${stackPath(baseFile)}\``,
      );
    }
    const resolvedParent = resolve(target, untag(parent) as JsonObject, baseDoc, baseFile, [...seen, key]);
    const inherited = without(resolvedParent, 'extends');
    const own = without(service, 'extends');
    const merged = mergeCompose({ services: { [name]: inherited } }, { services: { [name]: own } });
    const out = (merged['services'] as JsonObject)[name];
    return isObject(out) ? out : own;
  };
  const out: JsonObject = {};
  for (const [name, service] of Object.entries(services)) {
    setKey(out, name, isObject(service) ? resolve(name, service, doc, file, []) : service);
  }
  return { ...doc, services: out };
}

function resolveIncludes(
  doc: JsonObject,
  file: string,
  lookup: Lookup,
  ctx: LoadContext,
  extraFiles: Set<string>,
  chain: readonly string[],
): JsonObject {
  const include = untag(doc['include'] ?? null);
  if (include === undefined || include === null) return doc;
  const out = without(doc, 'include');
  if (chain.length > MAX_NESTING)
    throw new ComposeFileError(stackPath(file), null, `\`include\` nested more than ${MAX_NESTING} deep`);
  for (const entry of Array.isArray(include) ? include : [include]) {
    if (!isObject(entry)) continue;
    const paths = (Array.isArray(entry['path']) ? entry['path'] : []).filter(
      (p): p is string => typeof p === 'string',
    );
    if (paths.length === 0)
      throw new ComposeFileError(stackPath(file), null, '`include` entry without a `path`');
    const files = paths.map((p) => inside(p, file, '`include`'));
    for (const included of files) {
      if (chain.includes(included))
        throw new ComposeFileError(
          stackPath(file),
          null,
          `\`include\` of \`${included}\` loops back to itself`,
        );
      extraFiles.add(included);
    }
    const projectDir =
      typeof entry['project_directory'] === 'string'
        ? inside(entry['project_directory'], file, '`include.project_directory`')
        : posix.dirname(files[0] ?? '.');
    const envFiles = Array.isArray(entry['env_file'])
      ? entry['env_file']
          .filter((p): p is string => typeof p === 'string')
          .map((p) => inside(p, file, '`include.env_file`'))
      : [posix.join(projectDir, '.env')];
    const env = new Map<string, string>();
    for (const envFile of envFiles) {
      for (const [key, value] of readDotEnv(ctx, stackPath(envFile))) env.set(key, value);
    }
    // The including project's variables win over the included one's `.env` (compose 2.26).
    const loaded = loadProject(files, projectDir, lookupWith(lookup, env), ctx, chain);
    for (const extra of loaded.extraFiles) extraFiles.add(extra);
    for (const section of SECTIONS) {
      const imported = loaded.document[section];
      if (!isObject(imported)) continue;
      const own = isObject(out[section]) ? { ...out[section] } : {};
      for (const [name, value] of Object.entries(imported)) {
        const existing = own[name];
        if (existing !== undefined && canonicalJson(existing) !== canonicalJson(value)) {
          throw new ComposeFileError(
            stackPath(file),
            null,
            `${section}.${name} conflicts with the one \`${files.join(', ')}\` includes`,
          );
        }
        setKey(own, name, value);
      }
      out[section] = own;
    }
  }
  return out;
}

function without(object: JsonObject, key: string): JsonObject {
  const out: JsonObject = {};
  for (const [k, value] of Object.entries(object)) {
    if (k !== key) setKey(out, k, value);
  }
  return out;
}
