/**
 * `x-stackd:` — the per-stack (top level of the compose file) and per-service settings stackd
 * reads from a stack's compose document (DESIGN.md §7). Compose ignores `x-` fields, and stackd
 * leaves them out of its service hashes as compose leaves them out of its own, so setting one
 * recreates nothing. Validated strictly: an unknown key or a wrong value fails the stack with a
 * message naming it (a typo must not silently do nothing).
 *
 * At the top level, the stack's intent: `suspend`, `prune`, `selfHeal`, `rollback`, `update` (the
 * default of its services), `recreate`, `dependsOn`, `minReady`; each overrides the global setting
 * of the same name for this stack. Under a service: `update` (image updates: `off`, `digest`,
 * `notify`) for that service.
 */
import { isObject, type Json, type JsonObject } from '../../pkg/composehash/json.js';
import { parseDuration } from '../config/formats.js';

export const EXTENSION_KEY = 'x-stackd';

/**
 * `off`: only Git changes deploy; `digest`: the tag's registry digest is watched and a new one is
 * pulled and deployed; `notify`: a new digest is reported (API, metrics, status), nothing changes.
 */
export const UPDATE_POLICIES = ['off', 'digest', 'notify'] as const;
export type UpdatePolicy = (typeof UPDATE_POLICIES)[number];

/** `recreate: stack`: any change to a service recreates every service of the stack. */
export const RECREATE_MODES = ['service', 'stack'] as const;
export type RecreateMode = (typeof RECREATE_MODES)[number];

/**
 * What the repository says about one stack (its top-level `x-stackd`): each field null (or
 * empty) when not set, and then the global setting applies.
 */
export interface StackIntent {
  /** Nothing is applied, self-heal is off, the stack reads `out_of_sync` with the reason. */
  readonly suspend: { readonly reason: string } | null;
  /** Remove the stack when it is deleted from Git (`reconcile.prune`). */
  readonly prune: boolean | null;
  readonly selfHeal: boolean | null;
  readonly rollback: boolean | null;
  readonly recreate: RecreateMode | null;
  /** Stack ids that must be synced (healthy) at the desired revision before this one is applied. */
  readonly dependsOn: readonly string[];
  /** Milliseconds (`reconcile.minReady`). */
  readonly minReadyMs: number | null;
}

export const NO_INTENT: StackIntent = Object.freeze({
  suspend: null,
  prune: null,
  selfHeal: null,
  rollback: null,
  recreate: null,
  dependsOn: [],
  minReadyMs: null,
});

export interface StackSettings {
  /** The stack's `x-stackd.update`, the default of its services; null when not set. */
  readonly update: UpdatePolicy | null;
  /** Per service, its own `x-stackd.update` where set. */
  readonly services: ReadonlyMap<string, UpdatePolicy>;
  readonly intent: StackIntent;
}

/** A setting stackd cannot use; `message` names the key and what is wrong with it. */
export class StackSettingsError extends Error {
  override readonly name = 'StackSettingsError';
}

const STACK_KEYS = [
  'suspend',
  'prune',
  'selfHeal',
  'rollback',
  'update',
  'recreate',
  'dependsOn',
  'minReady',
] as const;
const SERVICE_KEYS = ['update'] as const;

export function readStackSettings(document: JsonObject): StackSettings {
  const top = document[EXTENSION_KEY];
  const stack = top === undefined || top === null ? {} : mapping(top, EXTENSION_KEY);
  checkKeys(stack, STACK_KEYS, EXTENSION_KEY);
  const update = policy(stack['update'], `${EXTENSION_KEY}.update`);
  const intent = readIntent(stack);
  const services = new Map<string, UpdatePolicy>();
  const definitions = document['services'];
  if (isObject(definitions)) {
    for (const [name, service] of Object.entries(definitions)) {
      if (!isObject(service)) continue;
      const own = service[EXTENSION_KEY];
      if (own === undefined || own === null) continue;
      const where = `services.${name}.${EXTENSION_KEY}`;
      const settings = mapping(own, where);
      checkKeys(settings, SERVICE_KEYS, where);
      const value = policy(settings['update'], `${where}.update`);
      if (value !== null) services.set(name, value);
    }
  }
  return { update, services, intent };
}

function readIntent(stack: JsonObject): StackIntent {
  const at = (key: string): string => `${EXTENSION_KEY}.${key}`;
  const recreate = stack['recreate'];
  if (
    recreate !== undefined &&
    recreate !== null &&
    !(RECREATE_MODES as readonly unknown[]).includes(recreate)
  )
    throw new StackSettingsError(
      `\`${at('recreate')}\` must be one of ${RECREATE_MODES.join(', ')}, not ${shown(recreate)}`,
    );
  return {
    suspend: suspension(stack['suspend'], at('suspend')),
    prune: flag(stack['prune'], at('prune')),
    selfHeal: flag(stack['selfHeal'], at('selfHeal')),
    rollback: flag(stack['rollback'], at('rollback')),
    recreate: (recreate ?? null) as RecreateMode | null,
    dependsOn: dependencies(stack['dependsOn'], at('dependsOn')),
    minReadyMs: duration(stack['minReady'], at('minReady')),
  };
}

function flag(value: Json | undefined, where: string): boolean | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'boolean') return value;
  throw new StackSettingsError(`\`${where}\` must be true or false, not ${shown(value)}`);
}

/** `suspend: { reason: … }`, or `suspend: true` (no reason given), or `false`/absent: not suspended. */
function suspension(value: Json | undefined, where: string): { reason: string } | null {
  if (value === undefined || value === null || value === false) return null;
  if (value === true) return { reason: 'suspended in the repository' };
  const given = mapping(value, where);
  checkKeys(given, ['reason'], where);
  const reason = given['reason'];
  if (typeof reason !== 'string' || reason.trim() === '')
    throw new StackSettingsError(
      `\`${where}.reason\` must be a non-empty string, not ${shown(reason ?? null)}`,
    );
  return { reason: reason.trim().slice(0, 500) };
}

function dependencies(value: Json | undefined, where: string): string[] {
  if (value === undefined || value === null) return [];
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list))
    throw new StackSettingsError(`\`${where}\` must be a list of stack ids, not ${shown(value)}`);
  const ids: string[] = [];
  for (const item of list) {
    if (
      typeof item !== 'string' ||
      !/^[^/\s][^\s]*$/.test(item) ||
      item.split('/').some((p) => p === '..' || p === '.' || p === '')
    )
      throw new StackSettingsError(`\`${where}\` must list stack ids (\`apps/db\`), not ${shown(item)}`);
    if (!ids.includes(item)) ids.push(item);
  }
  return ids;
}

function duration(value: Json | undefined, where: string): number | null {
  if (value === undefined || value === null) return null;
  try {
    // A bare number is seconds, as in the environment.
    return parseDuration(typeof value === 'number' ? String(value) : value);
  } catch {
    throw new StackSettingsError(`\`${where}\` must be a duration such as 10s or 2m, not ${shown(value)}`);
  }
}

function shown(value: Json): string {
  return typeof value === 'string' ? `"${value.slice(0, 40)}"` : kindOf(value);
}

/** The policy a service follows: its own, else its stack's, else the global `images.update`. */
export function effectivePolicy(
  service: { readonly update?: UpdatePolicy | null | undefined },
  global: UpdatePolicy,
): UpdatePolicy {
  return service.update ?? global;
}

function mapping(value: Json, where: string): JsonObject {
  if (!isObject(value)) throw new StackSettingsError(`\`${where}\` must be a mapping, not ${kindOf(value)}`);
  return value;
}

function checkKeys(value: JsonObject, known: readonly string[], where: string): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new StackSettingsError(
        `unknown key \`${where}.${key}\` (known: ${known.map((k) => `\`${k}\``).join(', ')})`,
      );
    }
  }
}

function policy(value: Json | undefined, where: string): UpdatePolicy | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' && (UPDATE_POLICIES as readonly string[]).includes(value)) {
    return value as UpdatePolicy;
  }
  throw new StackSettingsError(
    `\`${where}\` must be one of ${UPDATE_POLICIES.join(', ')}, not ${shown(value)}`,
  );
}

function kindOf(value: Json): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'a mapping' : `${typeof value} ${JSON.stringify(value)}`;
}
