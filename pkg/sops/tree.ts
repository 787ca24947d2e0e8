/**
 * The tree SOPS encrypts, whatever the file format: mappings (ordered), lists and leaves, each
 * leaf with a setter that writes its decrypted value back into the format's own document, so the
 * decrypted file keeps its order, layout and (plain) comments.
 */

export type Scalar = string | number | boolean | null;

export interface Leaf {
  readonly kind: 'leaf';
  readonly value: Scalar;
  /** Replace the value in the document (a decrypted value keeps the type SOPS recorded). */
  set(value: Scalar | Uint8Array): void;
}

export interface MapNode {
  readonly kind: 'map';
  readonly entries: readonly { readonly key: string; readonly node: Node }[];
}

export interface ListNode {
  readonly kind: 'list';
  readonly items: readonly Node[];
}

export type Node = Leaf | MapNode | ListNode;

/** A leaf of a plain JavaScript object or array, written back in place. */
export function fromJson(value: unknown, set: (v: Scalar | Uint8Array) => void): Node {
  if (Array.isArray(value)) {
    const items = value as unknown[];
    return {
      kind: 'list',
      items: items.map((item, i) => fromJson(item, (v) => (items[i] = v))),
    };
  }
  if (typeof value === 'object' && value !== null && !(value instanceof Uint8Array)) {
    const record = value as Record<string, unknown>;
    return {
      kind: 'map',
      entries: Object.keys(record).map((key) => ({
        key,
        node: fromJson(record[key], (v) => (record[key] = v)),
      })),
    };
  }
  const scalar =
    typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : null;
  return { kind: 'leaf', value: scalar, set };
}
