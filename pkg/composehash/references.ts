import { asList as list, isObject, type Json, type JsonObject } from './json.js';
import { isRemote, resolveInStack } from './paths.js';

/** Paths (relative to the stack directory, `.` for all of it) a service reads files from. */
export interface ServiceReferences {
  /** Normalised paths inside the stack directory: a file, or a directory meaning all under it. */
  readonly paths: ReadonlySet<string>;
}

/**
 * Every file reference of one service of a loaded (interpolated, canonical) model: `env_file`,
 * `label_file`, `configs` and `secrets` backed by a top-level `file:` (the build's secrets
 * too), bind mounts (and named volumes whose local driver binds a path), and the `build`
 * context with its `dockerfile` and local `additional_contexts`. Host paths (absolute, `~`) and
 * paths leaving the stack directory are not ours to hash and are ignored.
 */
export function serviceReferences(service: JsonObject, doc: JsonObject): ServiceReferences {
  const paths = new Set<string>();
  const add = (raw: Json | undefined, base = '.'): void => {
    if (typeof raw !== 'string' || raw === '') return;
    const path = resolveInStack(raw, base);
    if (path !== null) paths.add(path);
  };
  const fileOf = (section: 'configs' | 'secrets', item: Json): Json | undefined => {
    const top = doc[section];
    const name = isObject(item) ? item['source'] : item;
    const definition = typeof name === 'string' && isObject(top) ? top[name] : undefined;
    return isObject(definition) ? definition['file'] : undefined;
  };

  for (const item of list(service['env_file'])) add(isObject(item) ? item['path'] : item);
  for (const item of list(service['label_file'])) add(item);
  for (const section of ['configs', 'secrets'] as const) {
    for (const item of list(service[section])) add(fileOf(section, item));
  }
  for (const item of list(service['volumes'])) {
    if (!isObject(item) || typeof item['source'] !== 'string') continue;
    if (item['type'] === 'bind') add(item['source']);
    else if (item['type'] === 'volume') add(namedVolumeDevice(doc, item['source']));
  }
  const build = service['build'];
  if (isObject(build)) {
    const context = build['context'];
    if (typeof context === 'string' && !isRemote(context)) {
      add(context);
      const dockerfile = build['dockerfile'];
      if (typeof dockerfile === 'string') add(dockerfile, resolveInStack(context) ?? '.');
    }
    const contexts = build['additional_contexts'];
    if (isObject(contexts))
      for (const value of Object.values(contexts))
        if (typeof value === 'string' && !isRemote(value)) add(value);
    for (const item of list(build['secrets'])) add(fileOf('secrets', item));
  }
  return { paths };
}

/** `volumes: {x: {driver_opts: {type: none, o: bind, device: ./data}}}` binds `./data`. */
function namedVolumeDevice(doc: JsonObject, name: string): Json | undefined {
  const volumes = doc['volumes'];
  const volume = isObject(volumes) ? volumes[name] : undefined;
  const opts = isObject(volume) ? volume['driver_opts'] : undefined;
  if (!isObject(opts) || typeof opts['o'] !== 'string' || !/\bbind\b/.test(opts['o'])) return undefined;
  return opts['device'];
}
