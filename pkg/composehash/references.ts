import { posix } from 'node:path';
import { isObject, type Json, type JsonObject } from './json.js';

/** Paths (relative to the stack directory, `.` for all of it) a service reads files from. */
export interface ServiceReferences {
  /** Normalised paths inside the stack directory: a file, or a directory meaning all under it. */
  readonly paths: ReadonlySet<string>;
  /**
   * The service refers to a path that cannot be resolved without running compose: it contains
   * `$` (interpolation from `.env` or the environment). Such a service depends on every file.
   */
  readonly unresolved: boolean;
}

/**
 * Every file reference of one service: `env_file`, `label_file`, `extends.file`, `configs` and
 * `secrets` backed by a top-level `file:`, bind mounts (short and long syntax, and named volumes
 * whose local driver binds a path), and the `build` context (with its `dockerfile`). Host paths
 * (absolute, `~`) and paths leaving the stack directory are not ours to hash and are ignored.
 */
export function serviceReferences(service: JsonObject, doc: JsonObject): ServiceReferences {
  const paths = new Set<string>();
  let unresolved = false;
  const add = (raw: Json | undefined, base = '.'): void => {
    if (typeof raw !== 'string' || raw === '') return;
    if (raw.includes('$')) {
      unresolved = true;
      return;
    }
    const path = resolveInStack(raw, base);
    if (path !== null) paths.add(path);
  };

  for (const item of list(service['env_file'])) add(isObject(item) ? item['path'] : item);
  for (const item of list(service['label_file'])) add(item);
  const ext = service['extends'];
  if (isObject(ext)) add(ext['file']);

  for (const section of ['configs', 'secrets'] as const) {
    const top = doc[section];
    for (const item of list(service[section])) {
      const name = isObject(item) ? item['source'] : item;
      const definition = typeof name === 'string' && isObject(top) ? top[name] : undefined;
      if (isObject(definition)) add(definition['file']);
    }
  }

  for (const item of list(service['volumes'])) {
    const mount = volumeSource(item);
    if (mount === null) continue;
    if (mount.kind === 'path') add(mount.source);
    else add(namedVolumeDevice(doc, mount.source));
  }

  const build = service['build'];
  const context = isObject(build) ? (build['context'] ?? '.') : build;
  if (typeof context === 'string' && !isRemote(context)) {
    add(context);
    if (isObject(build) && !context.includes('$')) {
      const dockerfile = build['dockerfile'];
      if (typeof dockerfile === 'string') add(dockerfile, context);
    }
  }
  return { paths, unresolved };
}

function list(value: Json | undefined): Json[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/** `./a/../b` → `b`, `.` → `.`; null for host paths and paths outside the stack directory. */
export function resolveInStack(raw: string, base = '.'): string | null {
  if (raw.startsWith('/') || raw.startsWith('~') || /^[A-Za-z]:[\\/]/.test(raw)) return null;
  const path = posix.normalize(posix.join(base, raw)).replace(/\/+$/, '');
  if (path === '..' || path.startsWith('../')) return null;
  return path === '' ? '.' : path;
}

type MountSource = { kind: 'path' | 'volume'; source: string };

/** Source of a service volume entry: a path (bind mount) or a named volume; null otherwise. */
function volumeSource(item: Json): MountSource | null {
  if (typeof item === 'string') {
    const parts = item.split(':');
    const source = parts[0] ?? '';
    // One part is a container path only (anonymous volume); `C:\x:/y` is a Windows host path.
    if (parts.length < 2 || source === '' || /^[A-Za-z]$/.test(source)) return null;
    return { kind: isPathLike(source) ? 'path' : 'volume', source };
  }
  if (!isObject(item)) return null;
  const source = item['source'];
  if (typeof source !== 'string' || source === '') return null;
  if (item['type'] === 'bind') return { kind: 'path', source };
  if (item['type'] === 'volume' || item['type'] === undefined) return { kind: 'volume', source };
  return null;
}

function isPathLike(source: string): boolean {
  return source.startsWith('.') || source.startsWith('/') || source.startsWith('~') || source.includes('$');
}

/** `volumes: {x: {driver_opts: {type: none, o: bind, device: ./data}}}` binds `./data`. */
function namedVolumeDevice(doc: JsonObject, name: string): Json | undefined {
  const volumes = doc['volumes'];
  const volume = isObject(volumes) ? volumes[name] : undefined;
  const opts = isObject(volume) ? volume['driver_opts'] : undefined;
  if (!isObject(opts) || typeof opts['o'] !== 'string' || !/\bbind\b/.test(opts['o'])) return undefined;
  return opts['device'];
}

function isRemote(context: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(context) || context.startsWith('git@');
}
