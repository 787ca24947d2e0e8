/** Plain JSON values: what a parsed compose file is turned into before anything else looks at it. */
export type Json = null | boolean | number | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

/** `out[key] = value`, a `__proto__` key kept as a plain own key (assignment would set the prototype). */
export function setKey(out: JsonObject, key: string, value: Json): void {
  if (key === '__proto__') {
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  } else out[key] = value;
}

/** A value that may be one item or a list of them, as a list (nothing: empty). */
export function asList(value: Json | undefined): Json[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * JSON with keys sorted at every level (by UTF-16 code unit), no whitespace. Non-finite numbers
 * (YAML `.inf`, `.nan`) become the strings `.inf`, `-.inf`, `.nan`, as JSON cannot hold them.
 */
export function canonicalJson(value: Json): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') {
    return JSON.stringify(value);
  }
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return JSON.stringify(value);
    return JSON.stringify(Number.isNaN(value) ? '.nan' : value > 0 ? '.inf' : '-.inf');
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k] ?? null)}`).join(',')}}`;
}
