/**
 * The four SOPS file formats (SOPS's own "stores"): dotenv, YAML, JSON and binary. Each is read
 * into its metadata (the `sops` entry, still raw) and the tree(s) SOPS encrypted, and written back
 * after the leaves were decrypted in place, the way `sops decrypt` prints it.
 */
import { isMap, isScalar, isSeq, parseAllDocuments, type Document, visit } from 'yaml';
import { SopsError } from './errors.js';
import { fromJson, type Node, type Scalar } from './tree.js';

export type SopsFormat = 'dotenv' | 'yaml' | 'json' | 'binary';

export interface SopsDocument {
  /** The `sops` metadata as written (dotenv's flattened `sops_*` keys already unflattened). */
  readonly metadata: unknown;
  /** What SOPS encrypted: one tree per YAML document, one for the other formats. */
  readonly branches: readonly Node[];
  /** The decrypted file, once every leaf was set (the `sops` metadata left out). */
  render(): Uint8Array;
}

const ENCRYPTED_COMMENT = /ENC\[AES256_GCM,/;

export function parseSopsDocument(format: SopsFormat, content: Uint8Array): SopsDocument {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(content);
  switch (format) {
    case 'dotenv':
      return parseDotenv(text);
    case 'yaml':
      return parseYaml(text);
    case 'json':
    case 'binary':
      return parseJson(text, format);
  }
}

/**
 * SOPS's dotenv store: one `KEY=value` a line (`\n` escapes a newline), `#` comment lines, empty
 * lines dropped; the metadata is the `sops_`-prefixed keys, flattened with `__map_` and `__list_N__`.
 */
function parseDotenv(text: string): SopsDocument {
  type Line = { kind: 'comment'; text: string } | { kind: 'pair'; key: string; value: Scalar | Uint8Array };
  const lines: Line[] = [];
  const flat: Record<string, string> = {};
  let number = 0;
  for (const raw of text.split('\n')) {
    number++;
    if (raw === '') continue;
    if (raw.startsWith('#')) {
      lines.push({ kind: 'comment', text: raw.slice(1) });
      continue;
    }
    const at = raw.indexOf('=');
    if (at === -1) throw new SopsError(`line ${number} is neither KEY=value nor a # comment`);
    const key = raw.slice(0, at);
    const value = raw.slice(at + 1).replaceAll('\\n', '\n');
    if (key.startsWith('sops_')) flat[key.slice('sops_'.length)] = value;
    else lines.push({ kind: 'pair', key, value });
  }
  const pairs = lines.filter((l): l is Extract<Line, { kind: 'pair' }> => l.kind === 'pair');
  const branch: Node = {
    kind: 'map',
    entries: pairs.map((pair) => ({
      key: pair.key,
      node: { kind: 'leaf', value: pair.value as Scalar, set: (v) => (pair.value = v) },
    })),
  };
  return {
    metadata: Object.keys(flat).length === 0 ? undefined : unflatten(flat),
    branches: [branch],
    render() {
      const out = lines
        .filter((l) => l.kind === 'pair' || !ENCRYPTED_COMMENT.test(l.text))
        .map((l) =>
          l.kind === 'comment' ? `#${l.text}` : `${l.key}=${scalarText(l.value).replaceAll('\n', '\\n')}`,
        );
      return new TextEncoder().encode(out.map((l) => `${l}\n`).join(''));
    },
  };
}

/** `age__list_0__map_enc` → `{ age: [{ enc }] }`: SOPS's FlattenMetadata, reversed. */
function unflatten(flat: Record<string, string>): unknown {
  const root: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(flat)) {
    const tokens = key.split(/(?=__list_\d+|__map_)/);
    let holder = root as Record<string | number, unknown>;
    let slot: string | number = tokens[0] ?? '';
    for (const token of tokens.slice(1)) {
      const list = /^__list_(\d+)$/.exec(token);
      holder[slot] ??= list ? [] : {};
      holder = holder[slot] as Record<string | number, unknown>;
      slot = list ? Number(list[1]) : token.slice('__map_'.length);
    }
    holder[slot] = value;
  }
  return root;
}

function parseYaml(text: string): SopsDocument {
  const docs = parseAllDocuments(text, { uniqueKeys: false, keepSourceTokens: false });
  if (!Array.isArray(docs)) return parseYaml(''); // an empty stream
  const documents: Document[] = docs;
  for (const doc of documents) {
    const error = doc.errors[0];
    if (error !== undefined) throw new SopsError(`not valid YAML (${error.message.split('\n')[0] ?? ''})`);
  }
  let metadata: unknown;
  for (const doc of documents) {
    if (isMap(doc.contents) && doc.has('sops')) {
      metadata ??= (doc.get('sops', true) as { toJSON(): unknown } | undefined)?.toJSON();
      doc.delete('sops');
    }
  }
  return {
    metadata,
    branches: documents.map((doc) => fromYaml(doc.contents)),
    render() {
      for (const doc of documents) {
        visit(doc, {
          Node(_key, node) {
            const n = node as { commentBefore?: string | null; comment?: string | null };
            if (n.commentBefore != null && ENCRYPTED_COMMENT.test(n.commentBefore))
              n.commentBefore = dropEncrypted(n.commentBefore);
            if (n.comment != null && ENCRYPTED_COMMENT.test(n.comment)) n.comment = dropEncrypted(n.comment);
          },
        });
        if (doc.commentBefore != null) doc.commentBefore = dropEncrypted(doc.commentBefore);
        if (doc.comment != null) doc.comment = dropEncrypted(doc.comment);
      }
      return new TextEncoder().encode(documents.map((doc) => doc.toString({ lineWidth: 0 })).join(''));
    },
  };
}

/** Comment text without its encrypted lines (SOPS encrypts comments; their MAC covers none). */
function dropEncrypted(comment: string): string | null {
  const kept = comment.split('\n').filter((line) => !ENCRYPTED_COMMENT.test(line));
  return kept.length === 0 ? null : kept.join('\n');
}

function fromYaml(node: unknown): Node {
  if (isMap(node)) {
    return {
      kind: 'map',
      entries: node.items.map((pair) => {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        return { key, node: fromYaml(pair.value) };
      }),
    };
  }
  if (isSeq(node)) return { kind: 'list', items: node.items.map(fromYaml) };
  if (isScalar(node)) {
    const v = node.value;
    const value: Scalar = typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : null;
    return {
      kind: 'leaf',
      value,
      set(decrypted) {
        node.value = decrypted instanceof Uint8Array ? Buffer.from(decrypted).toString('utf8') : decrypted;
        // Let the writer pick the style: a decrypted "123" string is quoted, 123 is not.
        delete node.type;
      },
    };
  }
  return { kind: 'leaf', value: null, set: () => undefined };
}

function parseJson(text: string, format: 'json' | 'binary'): SopsDocument {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new SopsError(`not valid JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new SopsError('not a JSON object');
  }
  const record = parsed as Record<string, unknown>;
  const metadata = record['sops'];
  delete record['sops'];
  if (format === 'binary') {
    const keys = Object.keys(record);
    if (keys.length !== 1 || typeof record['data'] !== 'string') {
      throw new SopsError('a SOPS binary file holds exactly one `data` string beside `sops`');
    }
  }
  return {
    metadata,
    branches: [fromJson(record, () => undefined)],
    render() {
      if (format === 'binary') {
        const data = record['data'];
        return data instanceof Uint8Array
          ? data
          : new TextEncoder().encode(typeof data === 'string' ? data : '');
      }
      return new TextEncoder().encode(
        `${JSON.stringify(record, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : v), '\t')}\n`,
      );
    },
  };
}

function scalarText(value: Scalar | Uint8Array): string {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  return value === null ? '' : String(value);
}
