import { prefixedSha256 } from './digest.js';
import { ComposeFileError } from './errors.js';
import { canonicalJson, isObject, type Json, type JsonObject } from './json.js';
import { resolveLimits, type ParseLimits } from './limits.js';
import { mergeCompose } from './merge.js';
import { parseComposeFile } from './parse.js';
import { deriveProjectName, projectNameProblem } from './project.js';
import { serviceReferences } from './references.js';
import {
  hasBuild,
  hasHealthcheck,
  hasProfiles,
  replicasOf,
  isOneShot,
  serviceHash,
  sharedSections,
  type ServiceSummary,
  type StackFile,
} from './service.js';

export interface ComposeSource {
  /** Path relative to the stack directory (`compose.yaml`). */
  readonly path: string;
  readonly content: Uint8Array;
}

export interface StackInput {
  /** Stack id, for the derived project name. */
  readonly id: string;
  /** The main compose file, then the override if there is one (`-f` order). */
  readonly composeFiles: readonly ComposeSource[];
  /** Every file of the stack directory, compose files included, by path relative to it. */
  readonly files: ReadonlyMap<string, StackFile>;
  readonly limits?: Partial<ParseLimits>;
}

export interface StackHashes {
  /** Top-level `name:` or derived from the id. */
  readonly project: string;
  /** `sha256:<64 hex>` over the merged compose document and every other file of the stack. */
  readonly composeHash: string;
  /** Services `compose up` starts (no `profiles`, not scaled to 0), by name. */
  readonly services: ReadonlyMap<string, ServiceSummary>;
  /** The merged compose document, main file and override. */
  readonly document: JsonObject;
}

/**
 * Parse, merge and hash one stack. Pure: the caller reads the files. Throws ComposeFileError.
 *
 * File attribution for service hashes — a service's hash covers:
 * - `.env` (compose reads it for every service) and the files the service refers to (see
 *   serviceReferences); a directory reference covers every file under it;
 * - every file of the stack (compose files aside) when the service refers to a path that
 *   cannot be attributed statically — one built by `${VAR}` interpolation — since it could be
 *   any of them.
 * Files no service can reach (a README) change only the stack's compose hash.
 */
export function hashStack(input: StackInput): StackHashes {
  const limits = resolveLimits(input.limits);
  const [main, ...overrides] = input.composeFiles;
  if (main === undefined) throw new TypeError('Expected `composeFiles` to hold at least the main file');
  let doc = refuseInclude(
    main.path,
    parseComposeFile(main.path, main.content, limits, { requireServices: true }),
  );
  for (const override of overrides) {
    doc = mergeCompose(
      doc,
      refuseInclude(
        override.path,
        parseComposeFile(override.path, override.content, limits, { requireServices: false }),
      ),
    );
  }
  const project = projectOf(input.id, doc, main.path);
  const composePaths = new Set(input.composeFiles.map((f) => f.path));
  const otherFiles = new Map([...input.files].filter(([path]) => !composePaths.has(path)));

  const composeHash = prefixedSha256(
    canonicalJson({
      compose: doc,
      composeFiles: input.composeFiles.map((f) => f.path),
      files: fileList(otherFiles),
    }),
  );

  const shared = sharedSections(doc);
  const services = new Map<string, ServiceSummary>();
  const definitions = doc['services'];
  for (const [name, service] of Object.entries(isObject(definitions) ? definitions : {})) {
    if (!isObject(service) || hasProfiles(service)) continue;
    const replicas = replicasOf(service);
    if (replicas === 0) continue;
    const refs = serviceReferences(service, doc);
    const files = new Map<string, StackFile>();
    for (const [path, file] of otherFiles) {
      if (path === '.env' || refs.unresolved || covers(refs.paths, path)) files.set(path, file);
    }
    // A service that mounts the whole directory (or builds from it) sees the compose files too.
    for (const path of composePaths) {
      const file = input.files.get(path);
      if (file && covers(refs.paths, path)) files.set(path, file);
    }
    services.set(name, {
      name,
      hash: serviceHash({ name, service, shared, files }),
      oneShot: isOneShot(service),
      healthcheck: hasHealthcheck(service),
      replicas,
      build: hasBuild(service),
    });
  }
  return { project, composeHash, services, document: doc };
}

/**
 * Top-level `include:` makes the stack invalid: the included files' services would run without
 * stackd's labels and hashes (compose v2 does not let an override file label imported services),
 * so stackd could neither track nor update them. A clear error now beats a stack that looks foreign.
 */
function refuseInclude(path: string, doc: JsonObject): JsonObject {
  if (doc['include'] === undefined) return doc;
  throw new ComposeFileError(
    path,
    null,
    "top-level `include:` is not supported: stackd labels and tracks every service, and cannot do that for services of included files; move them into the stack's compose files",
  );
}

function projectOf(id: string, doc: JsonObject, mainFile: string): string {
  const name = doc['name'];
  if (name !== undefined && name !== null) {
    if (typeof name !== 'string' || name.includes('$')) {
      throw new ComposeFileError(
        mainFile,
        null,
        '`name` must be a plain string (interpolation is not supported)',
      );
    }
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
