import { posix } from 'node:path';
import { prefixedSha256 } from './digest.js';
import { ComposeFileError } from './errors.js';
import { asList, canonicalJson, isObject, type Json, type JsonObject } from './json.js';
import { resolveLimits, type ParseLimits } from './limits.js';
import { loadProject, lookupWith, readDotEnv, type LoadContext, type ReadFile } from './load.js';
import { deriveProjectName, projectNameProblem } from './project.js';
import { resolveInStack } from './paths.js';
import { serviceReferences } from './references.js';
import {
  hasBuild,
  hasHealthcheck,
  isActive,
  isOneShot,
  replicasOf,
  serviceHash,
  serviceParts,
  usedResources,
  type ServiceSummary,
  type StackFile,
} from './service.js';

/** Git's mode of a symbolic link. */
const MODE_LINK = '120000';

export interface ComposeSource {
  /** Path relative to the stack directory (`compose.yaml`). */
  readonly path: string;
  readonly content: Uint8Array;
}

export interface StackInput {
  /** Stack id, for the derived project name. */
  readonly id: string;
  /**
   * The compose files discovery found (main file, then its override): used unless the stack's
   * `.env` sets `COMPOSE_FILE`. Their content comes from `read`, or from here.
   */
  readonly composeFiles: readonly ComposeSource[] | readonly string[];
  /** Every file of the stack directory, compose files included, by path relative to it. */
  readonly files: ReadonlyMap<string, StackFile>;
  /** The bytes of a file of the stack directory (`.env`, included and extended files). */
  readonly read?: ReadFile;
  /**
   * The environment compose runs with, which wins over `.env` in interpolation (compose's
   * rule). @default no variables
   */
  readonly environment?: Readonly<Record<string, string | undefined>>;
  readonly limits?: Partial<ParseLimits>;
}

export interface StackHashes {
  /** Top-level `name:` or derived from the id. */
  readonly project: string;
  /** The compose files in `-f` order: the discovered ones, or `.env`'s `COMPOSE_FILE`. */
  readonly composeFiles: readonly string[];
  /** `sha256:<64 hex>` over the merged compose document and every other file of the stack. */
  readonly composeHash: string;
  /** Services `compose up` starts (no inactive `profiles`, not scaled to 0), by name. */
  readonly services: ReadonlyMap<string, ServiceSummary>;
  /** The merged compose document: files, documents, includes and extends resolved. */
  readonly document: JsonObject;
}

/**
 * Load, merge and hash one stack the way compose reads it (load.ts). Pure: the caller reads
 * the files. Throws ComposeFileError.
 *
 * A service's hash covers its definition after interpolation, merging and `extends` (in
 * canonical form, so equivalent spellings hash alike), the top-level networks, volumes,
 * configs and secrets it uses, and the content of the files it refers to (serviceReferences; a
 * directory covers every file under it, a symbolic link its target too) — stackd's addition to
 * compose's own config hash, which does not see file contents. `.env` reaches a service only
 * through the variables it interpolates. Files no service refers to (a README) change only the
 * stack's compose hash.
 */
export function hashStack(input: StackInput): StackHashes {
  const limits = resolveLimits(input.limits);
  const given = new Map<string, Uint8Array>();
  for (const file of input.composeFiles) if (typeof file !== 'string') given.set(file.path, file.content);
  const raw: ReadFile = (path) => given.get(path) ?? input.read?.(path);
  // Compose and `.env` files are read as themselves: a link would make compose read whatever it
  // points to (the stack's own `.env` is refused before this, in build_stack.ts).
  const read: ReadFile = (path) => {
    if (input.files.get(path)?.mode === MODE_LINK) {
      throw new ComposeFileError(
        path,
        null,
        'is a symbolic link: compose would read whatever it points to; commit the file itself',
      );
    }
    return raw(path);
  };
  const environment = input.environment ?? {};
  const ctx: LoadContext = { read, limits, loads: { count: 0 }, environment: (name) => environment[name] };
  const dotenv = input.files.has('.env') ? readDotEnv(ctx, '.env') : new Map<string, string>();
  const lookup = lookupWith(ctx.environment, dotenv);
  const discovered = input.composeFiles.map((f) => (typeof f === 'string' ? f : f.path));
  const composeFiles = composeFilesFromEnv(dotenv, input.files) ?? discovered;
  const [main] = composeFiles;
  if (main === undefined) throw new TypeError('Expected `composeFiles` to hold at least the main file');
  const { document: doc, extraFiles } = loadProject(composeFiles, '.', lookup, ctx);
  const project = projectOf(input.id, doc, main);
  const definitions = doc['services'];
  if (!isObject(definitions) || Object.keys(definitions).length === 0) {
    throw new ComposeFileError(
      main,
      null,
      'no services: the compose files (and the files they include) define none',
    );
  }
  const composePaths = new Set([...composeFiles, ...extraFiles]);
  const otherFiles = new Map([...input.files].filter(([path]) => !composePaths.has(path)));

  const composeHash = prefixedSha256(
    canonicalJson({
      compose: doc,
      composeFiles: [...composeFiles],
      files: fileList(otherFiles),
    }),
  );

  const active = activeProfiles(lookup);
  const services = new Map<string, ServiceSummary>();
  for (const [name, service] of Object.entries(definitions)) {
    if (!isObject(service) || !isActive(service, active)) continue;
    checkReferences(main, name, service, doc, input.files);
    const replicas = replicasOf(service);
    if (replicas === 0) continue;
    const refs = followLinks(serviceReferences(service, doc).paths, input.files, raw);
    const files = new Map<string, StackFile>();
    for (const [path, file] of input.files) if (covers(refs, path)) files.set(path, file);
    const hashInput = { name, service, resources: usedResources(service, doc), files };
    services.set(name, {
      name,
      hash: serviceHash(hashInput),
      parts: serviceParts(hashInput),
      oneShot: isOneShot(service),
      healthcheck: hasHealthcheck(service),
      replicas,
      build: hasBuild(service),
      image: typeof service['image'] === 'string' ? service['image'] : null,
    });
  }
  return { project, composeFiles, composeHash, services, document: doc };
}

/**
 * What compose's `up` refuses about a service and the stack's files show at once: a required
 * `env_file` of the stack directory that is not there, a volume, network, config or secret the
 * top level does not define. Failing the stack here says so in its status rather than at apply.
 */
function checkReferences(
  main: string,
  name: string,
  service: JsonObject,
  doc: JsonObject,
  files: ReadonlyMap<string, StackFile>,
): void {
  const fail = (what: string): never => {
    throw new ComposeFileError(main, null, `service \`${name}\` ${what}`);
  };
  for (const entry of asList(service['env_file'])) {
    if (!isObject(entry) || entry['required'] === false || typeof entry['path'] !== 'string') continue;
    const path = resolveInStack(entry['path']);
    if (path !== null && !files.has(path))
      fail(`reads env_file \`${entry['path']}\`, which does not exist in the stack directory`);
  }
  const defined = (section: string, key: string): boolean => {
    const defs = doc[section];
    return isObject(defs) && Object.hasOwn(defs, key);
  };
  for (const volume of asList(service['volumes'])) {
    if (
      isObject(volume) &&
      volume['type'] === 'volume' &&
      typeof volume['source'] === 'string' &&
      !defined('volumes', volume['source'])
    ) {
      fail(`mounts volume \`${volume['source']}\`, which the top-level \`volumes\` does not define`);
    }
  }
  const networks = service['networks'];
  for (const network of isObject(networks) ? Object.keys(networks) : []) {
    if (network !== 'default' && !defined('networks', network)) {
      fail(`joins network \`${network}\`, which the top-level \`networks\` does not define`);
    }
  }
  for (const section of ['configs', 'secrets'] as const) {
    for (const item of asList(service[section])) {
      const source = isObject(item) ? item['source'] : undefined;
      if (typeof source === 'string' && !defined(section, source)) {
        fail(
          `uses ${section === 'configs' ? 'config' : 'secret'} \`${source}\`, which the top-level \`${section}\` does not define`,
        );
      }
    }
  }
}

/** `COMPOSE_PROFILES=a,b` (environment or `.env`). */
function activeProfiles(lookup: (name: string) => string | undefined): Set<string> {
  return new Set(
    (lookup('COMPOSE_PROFILES') ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter((p) => p !== ''),
  );
}

/**
 * `.env`'s `COMPOSE_FILE` (separated by `COMPOSE_PATH_SEPARATOR`, default `:`): the files
 * compose reads instead of the discovered ones. Only the stack's `.env` counts (stackd's own
 * environment would apply one list to every stack). Undefined when not set.
 */
function composeFilesFromEnv(
  dotenv: ReadonlyMap<string, string>,
  files: ReadonlyMap<string, StackFile>,
): string[] | undefined {
  const value = dotenv.get('COMPOSE_FILE');
  if (value === undefined || value.trim() === '') return undefined;
  const separator = dotenv.get('COMPOSE_PATH_SEPARATOR') ?? ':';
  const out: string[] = [];
  for (const raw of value
    .split(separator)
    .map((p) => p.trim())
    .filter((p) => p !== '')) {
    const path = resolveInStack(raw);
    if (path === null || path === '.') {
      throw new ComposeFileError(
        '.env',
        null,
        `COMPOSE_FILE names \`${raw}\`, which is not a file inside the stack directory`,
      );
    }
    if (!files.has(path))
      throw new ComposeFileError(
        '.env',
        null,
        `COMPOSE_FILE names \`${raw}\`, which does not exist in the stack directory`,
      );
    out.push(path);
  }
  return out;
}

/**
 * The references plus, for every symbolic link of the stack they reach (or pass through), the
 * path it points to when that is inside the stack: a bind mount of a link sees its target.
 */
function followLinks(
  paths: ReadonlySet<string>,
  files: ReadonlyMap<string, StackFile>,
  read: ReadFile,
): Set<string> {
  const out = new Set(paths);
  const target = (link: string): string | null => {
    const content = read(link);
    if (content === undefined) return null;
    const to = new TextDecoder().decode(content);
    return resolveInStack(to, posix.dirname(link));
  };
  for (let round = 0; round < 8; round++) {
    let added = false;
    for (const [path, file] of files) {
      if (file.mode !== MODE_LINK) continue;
      const reached = covers(out, path);
      const through = [...out].filter((p) => p.startsWith(`${path}/`));
      if (!reached && through.length === 0) continue;
      const to = target(path);
      if (to === null) continue;
      const more = [...(reached ? [to] : []), ...through.map((p) => `${to}/${p.slice(path.length + 1)}`)];
      for (const p of more) {
        if (!out.has(p)) {
          out.add(p);
          added = true;
        }
      }
    }
    if (!added) break;
  }
  return out;
}

function projectOf(id: string, doc: JsonObject, mainFile: string): string {
  const name = doc['name'];
  if (name !== undefined && name !== null && name !== '') {
    if (typeof name !== 'string') throw new ComposeFileError(mainFile, null, '`name` must be a string');
    const problem = projectNameProblem(name);
    if (problem !== null) throw new ComposeFileError(mainFile, null, problem);
    return name;
  }
  const derived = deriveProjectName(id);
  const problem = projectNameProblem(derived);
  if (problem !== null) {
    throw new ComposeFileError(
      mainFile,
      null,
      `${problem}, derived from stack id \`${id}\`: set a top-level \`name\``,
    );
  }
  return derived;
}

function covers(paths: ReadonlySet<string>, file: string): boolean {
  if (paths.has('.') || paths.has(file)) return true;
  for (const path of paths) if (file.startsWith(`${path}/`)) return true;
  return false;
}

function fileList(files: ReadonlyMap<string, StackFile>): Json[] {
  return [...files.keys()].sort().map((path) => {
    const file = files.get(path);
    return [path, file?.mode ?? '', file?.sha256 ?? ''];
  });
}
