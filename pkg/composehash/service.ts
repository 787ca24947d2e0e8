import { asList as list, canonicalJson, isObject, type Json, type JsonObject } from './json.js';
import { prefixedSha256 } from './digest.js';

/** What stackd needs to know about one service of a stack. */
export interface ServiceSummary {
  readonly name: string;
  /** `sha256:<64 hex>` over the service's definition and everything it can depend on. */
  readonly hash: string;
  /** `restart: "no"` set explicitly. */
  readonly oneShot: boolean;
  /** A healthcheck is defined and not disabled. */
  readonly healthcheck: boolean;
  /** Containers `compose up` keeps (`deploy.replicas` or `scale`); null when not a plain number. */
  readonly replicas: number | null;
  /** The service has a `build:` key: its image is built from the stack's files. */
  readonly build: boolean;
  /** Its `image:` (interpolated), or null when it has none. */
  readonly image: string | null;
  /** What the hash is made of, kept so that a later change can be named (`why`). */
  readonly parts: ServiceParts;
}

/**
 * The parts of a service hash, each digested on its own, so that two versions of a service can
 * say what differs between them: its image, the rest of its definition, or which file.
 */
export interface ServiceParts {
  readonly image: string | null;
  /** `sha256:…` over the definition without `image:`, and the top-level resources it uses. */
  readonly definition: string;
  /**
   * The files it depends on: path → `<mode>:<sha256>`. A service that depends on more than
   * PARTS_FILES_LIMIT files keeps one digest of them all, under the key `*`.
   */
  readonly files: Readonly<Record<string, string>>;
}

/** Files listed by path in ServiceParts at most (a bind-mounted tree of thousands is one digest). */
export const PARTS_FILES_LIMIT = 100;

/** A file of the stack directory as the hashes see it. */
export interface StackFile {
  /** Git file mode: `100644` regular, `100755` executable, `120000` symbolic link. */
  readonly mode: string;
  /** Lower-case hex SHA-256 of the content (for a link: of its target). */
  readonly sha256: string;
}

/**
 * The top-level definitions a service uses: its networks (`default` when it names none and has
 * no `network_mode`), the named volumes it mounts, the configs and secrets it (or its build)
 * refers to. Only these are in its hash: a network added for another service changes nothing.
 */
export function usedResources(service: JsonObject, doc: JsonObject): JsonObject {
  const pick = (section: string, names: Iterable<string>): JsonObject => {
    const defs = doc[section];
    const out: JsonObject = {};
    for (const name of [...new Set(names)].sort()) {
      const def = isObject(defs) ? defs[name] : undefined;
      out[name] = def === undefined ? null : def;
    }
    return out;
  };
  const networks = service['networks'];
  const networkNames = isObject(networks)
    ? Object.keys(networks)
    : service['network_mode'] === undefined
      ? ['default']
      : [];
  const volumes = list(service['volumes'])
    .filter((v) => isObject(v) && v['type'] === 'volume' && typeof v['source'] === 'string')
    .map((v) => (v as JsonObject)['source'] as string);
  const sources = (items: Json | undefined): string[] =>
    list(items)
      .map((item) => (isObject(item) ? item['source'] : item))
      .filter((name): name is string => typeof name === 'string');
  const build = service['build'];
  return {
    networks: pick('networks', networkNames),
    volumes: pick('volumes', volumes),
    configs: pick('configs', sources(service['configs'])),
    secrets: pick('secrets', [
      ...sources(service['secrets']),
      ...sources(isObject(build) ? build['secrets'] : undefined),
    ]),
  };
}

/**
 * Keys compose 2.26 leaves out of its own per-service config hash because a change to them does
 * not recreate a container (it pulls, or starts the service or not): left out of stackd's too.
 * (`depends_on` is in compose 2.26's hash; newer compose leaves it out.)
 */
const NOT_RECREATING = ['profiles', 'pull_policy'];

/**
 * The definition as hashed: without NOT_RECREATING and without extension fields (`x-…`, which
 * compose leaves out of its config hash too: `x-stackd` settings recreate nothing), numbers and
 * booleans as strings (`4` is `"4"`).
 */
export function hashedDefinition(service: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(service))
    if (!NOT_RECREATING.includes(key) && !key.startsWith('x-')) out[key] = stringify(value);
  return out;
}

function stringify(value: Json): Json {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map(stringify);
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [key, item] of Object.entries(value)) out[key] = stringify(item);
  return out;
}

/**
 * Whether `compose up` starts the service: it has no `profiles`, or one of them is active
 * (`COMPOSE_PROFILES`; `*` activates all).
 */
export function isActive(service: JsonObject, active: ReadonlySet<string>): boolean {
  const profiles = service['profiles'];
  const names = Array.isArray(profiles)
    ? profiles
    : profiles === undefined || profiles === null
      ? []
      : [profiles];
  if (names.length === 0) return true;
  return active.has('*') || names.some((name) => typeof name === 'string' && active.has(name));
}

/**
 * How many containers `compose up` keeps for the service: `deploy.replicas`, else `scale`, else 1.
 * Null when the value is not a plain number (an interpolated `${N}`): at least one is expected.
 */
export function replicasOf(service: JsonObject): number | null {
  const deploy = service['deploy'];
  if (isObject(deploy)) {
    // `global` is one container per node: one here. A per-node cap, which compose v1 applies and
    // v2 does not, leaves the count open.
    if (deploy['mode'] === 'global') return 1;
    const placement = deploy['placement'];
    if (isObject(placement) && placement['max_replicas_per_node'] !== undefined) return null;
  }
  const fromDeploy = isObject(deploy) ? deploy['replicas'] : undefined;
  const value = fromDeploy ?? service['scale'];
  if (value === undefined || value === null) return 1;
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value : null;
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  return null;
}

/** A `build:` key (a context path or a mapping): compose builds the service's image. */
export function hasBuild(service: JsonObject): boolean {
  const build = service['build'];
  return build !== undefined && build !== null;
}

export function isOneShot(service: JsonObject): boolean {
  const restart = service['restart'];
  return restart === 'no' || restart === false;
}

export function hasHealthcheck(service: JsonObject): boolean {
  const check = service['healthcheck'];
  if (!isObject(check) || check['disable'] === true) return false;
  const test = check['test'];
  const first: Json | undefined = Array.isArray(test) ? test[0] : test;
  return first !== 'NONE';
}

export interface ServiceHashInput {
  readonly name: string;
  readonly service: JsonObject;
  /** The top-level definitions it uses (usedResources). */
  readonly resources: JsonObject;
  /** The files the service depends on, by path (`.env` included by the caller). */
  readonly files: ReadonlyMap<string, StackFile>;
}

/** The parts of `serviceHash(input)` (see ServiceParts). */
export function serviceParts(input: ServiceHashInput): ServiceParts {
  const definition: JsonObject = { ...hashedDefinition(input.service) };
  const image = typeof input.service['image'] === 'string' ? input.service['image'] : null;
  delete definition['image'];
  const entries = [...input.files.keys()]
    .sort()
    .map((path) => [path, `${input.files.get(path)?.mode ?? ''}:${input.files.get(path)?.sha256 ?? ''}`]);
  const files: Record<string, string> = Object.create(null) as Record<string, string>;
  if (entries.length > PARTS_FILES_LIMIT) files['*'] = prefixedSha256(canonicalJson(entries));
  else for (const [path, digest] of entries) files[path as string] = digest as string;
  return {
    image,
    definition: prefixedSha256(canonicalJson({ service: definition, resources: input.resources })),
    files,
  };
}

export function serviceHash(input: ServiceHashInput): string {
  const files: Json[] = [...input.files.keys()].sort().map((path) => {
    const file = input.files.get(path);
    return [path, file?.mode ?? '', file?.sha256 ?? ''];
  });
  const payload: JsonObject = {
    name: input.name,
    service: hashedDefinition(input.service),
    resources: input.resources,
    files,
  };
  return prefixedSha256(canonicalJson(payload));
}
