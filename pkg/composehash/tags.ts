import { isObject, setKey, type Json, type JsonObject } from './json.js';

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
  if (Array.isArray(value)) {
    let out: Json[] | undefined;
    value.forEach((item, i) => {
      const plain = untag(item) ?? null;
      if (plain !== item) (out ??= value.slice(0, i)).push(plain);
      else out?.push(item);
    });
    return out ?? value;
  }
  if (!isObject(value)) return value;
  // Shared, not copied, where nothing inside is tagged (most documents).
  let out: JsonObject | undefined;
  const keys = Object.keys(value);
  keys.forEach((key, i) => {
    const item = value[key] ?? null;
    const plain = untag(item);
    if (plain === item && out === undefined) return;
    if (out === undefined) {
      out = {};
      for (const earlier of keys.slice(0, i)) setKey(out, earlier, value[earlier] ?? null);
    }
    if (plain !== undefined) setKey(out, key, plain);
  });
  return out ?? value;
}

/** Apply `fn` to the value inside a marker (keeping the marker), or to the value itself. */
export function mapTagged(value: Json, fn: (inner: Json) => Json): Json {
  const mark = tagOf(value);
  return mark === undefined ? fn(value) : tagged(mark.tag, fn(mark.value));
}
