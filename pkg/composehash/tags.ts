import { isObject, type Json, type JsonObject } from './json.js';

/**
 * Compose's merge tags (compose-spec, "Merge and override"): in a file merged over earlier ones,
 * `!reset` removes the value the earlier files gave (whatever the tagged value is) and
 * `!override` replaces it whole instead of merging. In the first file they do nothing special:
 * `!reset` leaves the key out, `!override` is its plain value.
 */
export type ComposeTag = 'reset' | 'override';

const TAG = Symbol('compose merge tag');

interface Marker extends JsonObject {
  [TAG]?: { readonly tag: ComposeTag; readonly value: Json };
}

/** A marker object for a tagged value: invisible to Object.keys, so it must be resolved by the merge. */
export function tagged(tag: ComposeTag, value: Json): JsonObject {
  const marker: Marker = {};
  Object.defineProperty(marker, TAG, { value: { tag, value }, enumerable: false });
  return marker;
}

export function tagOf(
  value: Json | undefined,
): { readonly tag: ComposeTag; readonly value: Json } | undefined {
  return isObject(value) ? (value as Marker)[TAG] : undefined;
}

/**
 * The value as the first file of a merge means it: `!reset` keys left out, `!override` values
 * plain, at every level.
 */
export function untag(value: Json): Json | undefined {
  const mark = tagOf(value);
  if (mark !== undefined) return mark.tag === 'reset' ? undefined : untag(mark.value);
  if (Array.isArray(value)) return value.map((item) => untag(item) ?? null);
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [key, item] of Object.entries(value)) {
    const plain = untag(item);
    if (plain !== undefined)
      Object.defineProperty(out, key, { value: plain, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Apply `fn` to the value inside a marker (keeping the marker), or to the value itself. */
export function mapTagged(value: Json, fn: (inner: Json) => Json): Json {
  const mark = tagOf(value);
  return mark === undefined ? fn(value) : tagged(mark.tag, fn(mark.value));
}
