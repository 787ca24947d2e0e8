/**
 * `x-stackd:` — the per-stack (top level of the compose file) and per-service settings stackd
 * reads from a stack's compose document (DESIGN.md §7). Compose ignores `x-` fields, and stackd
 * leaves them out of its service hashes as compose leaves them out of its own, so setting one
 * recreates nothing. Validated strictly: an unknown key or a wrong value fails the stack with a
 * message naming it (a typo must not silently do nothing).
 *
 * Today: `update` (image updates: `off`, `digest`, `notify`), at the top level as the stack's
 * default and under a service for that service.
 */
import { isObject, type Json, type JsonObject } from '../../pkg/composehash/json.js';

export const EXTENSION_KEY = 'x-stackd';

/**
 * `off`: only Git changes deploy; `digest`: the tag's registry digest is watched and a new one is
 * pulled and deployed; `notify`: a new digest is reported (API, metrics, status), nothing changes.
 */
export const UPDATE_POLICIES = ['off', 'digest', 'notify'] as const;
export type UpdatePolicy = (typeof UPDATE_POLICIES)[number];

export interface StackSettings {
  /** The stack's `x-stackd.update`, the default of its services; null when not set. */
  readonly update: UpdatePolicy | null;
  /** Per service, its own `x-stackd.update` where set. */
  readonly services: ReadonlyMap<string, UpdatePolicy>;
}

/** A setting stackd cannot use; `message` names the key and what is wrong with it. */
export class StackSettingsError extends Error {
  override readonly name = 'StackSettingsError';
}

const STACK_KEYS = ['update'] as const;
const SERVICE_KEYS = ['update'] as const;

export function readStackSettings(document: JsonObject): StackSettings {
  const top = document[EXTENSION_KEY];
  const stack = top === undefined || top === null ? {} : mapping(top, EXTENSION_KEY);
  checkKeys(stack, STACK_KEYS, EXTENSION_KEY);
  const update = policy(stack['update'], `${EXTENSION_KEY}.update`);
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
  return { update, services };
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
  const shown = typeof value === 'string' ? `"${value.slice(0, 40)}"` : kindOf(value);
  throw new StackSettingsError(`\`${where}\` must be one of ${UPDATE_POLICIES.join(', ')}, not ${shown}`);
}

function kindOf(value: Json): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'a mapping' : `${typeof value} ${JSON.stringify(value)}`;
}
