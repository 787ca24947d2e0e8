import { canonicalJson, isObject, type Json, type JsonObject } from './json.js';
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
}

/** A file of the stack directory as the hashes see it. */
export interface StackFile {
  /** Git file mode: `100644` regular, `100755` executable, `120000` symbolic link. */
  readonly mode: string;
  /** Lower-case hex SHA-256 of the content (for a link: of its target). */
  readonly sha256: string;
}

/** Top-level keys every service can depend on (the `x-*` extensions are added to these). */
const SHARED_SECTIONS = ['networks', 'volumes', 'configs', 'secrets'];

export function sharedSections(doc: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(doc)) {
    if (SHARED_SECTIONS.includes(key) || key.startsWith('x-')) out[key] = value;
  }
  return out;
}

/** `profiles: [...]` non-empty: `compose up` without `--profile` leaves the service out. */
export function hasProfiles(service: JsonObject): boolean {
  const profiles = service['profiles'];
  return Array.isArray(profiles) ? profiles.length > 0 : profiles !== undefined && profiles !== null;
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
  readonly shared: JsonObject;
  /** The files the service depends on, by path (`.env` included by the caller). */
  readonly files: ReadonlyMap<string, StackFile>;
}

export function serviceHash(input: ServiceHashInput): string {
  const files: Json[] = [...input.files.keys()].sort().map((path) => {
    const file = input.files.get(path);
    return [path, file?.mode ?? '', file?.sha256 ?? ''];
  });
  const payload: JsonObject = {
    name: input.name,
    service: input.service,
    shared: input.shared,
    files,
  };
  return prefixedSha256(canonicalJson(payload));
}
