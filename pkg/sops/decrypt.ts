/**
 * Decrypting a SOPS file the way `sops decrypt` does, for age recipients: the data key is
 * unwrapped with the official age implementation (`age-encryption`), every value is opened with
 * AES-256-GCM (node:crypto) authenticated with its path of keys, and the MAC over all values
 * (SHA-512, itself encrypted and authenticated with `lastmodified`) must match, so a value
 * changed, added, removed or moved after encryption is refused. No cryptography is written here:
 * only SOPS's file layout.
 */
import { createDecipheriv, createHash, type Hash } from 'node:crypto';
import { Decrypter } from 'age-encryption';
import { SopsError } from './errors.js';
import { parseSopsDocument, type SopsFormat } from './formats.js';
import { ENCRYPTED_VALUE, isEncrypted, readMetadata, type SopsMetadata } from './metadata.js';
import type { Node, Scalar } from './tree.js';

/** One or more age identities (`AGE-SECRET-KEY-1…`). */
export type AgeIdentities = readonly string[];

/** Decrypt a SOPS file of `format`: its plaintext, as `sops decrypt` would print it. */
export async function decryptSops(
  format: SopsFormat,
  content: Uint8Array,
  identities: AgeIdentities,
): Promise<Uint8Array> {
  const doc = parseSopsDocument(format, content);
  const meta = readMetadata(doc.metadata);
  const key = await unwrapDataKey(meta, identities);
  const hash = createHash('sha512');
  for (const branch of doc.branches) walk(branch, [], meta, key, hash);
  const computed = hash.digest('hex').toUpperCase();
  let stored: string;
  try {
    stored = Buffer.from(openValue(meta.mac, key, meta.lastModified)).toString('utf8');
  } catch {
    throw new SopsError('its MAC does not decrypt: the metadata was changed after encryption');
  }
  if (stored !== computed) {
    throw new SopsError('its MAC does not match its values: the file was changed after it was encrypted');
  }
  return doc.render();
}

/**
 * The file's data key, from the first age recipient one of `identities` opens. None of them is a
 * recipient: an error listing the file's recipients (public keys).
 */
async function unwrapDataKey(meta: SopsMetadata, identities: AgeIdentities): Promise<Buffer> {
  if (identities.length === 0) {
    throw new SopsError('no age identity is configured (secrets.ageKeyFile)');
  }
  const decrypter = new Decrypter();
  for (const identity of identities) decrypter.addIdentity(identity);
  for (const { enc } of meta.age) {
    let key: Uint8Array;
    try {
      key = await decrypter.decrypt(enc, 'uint8array');
    } catch {
      continue; // not for these identities (or damaged): try the next recipient
    }
    if (key.byteLength !== 32) throw new SopsError('its age-wrapped data key is not 32 bytes');
    return Buffer.from(key);
  }
  throw new SopsError(
    `none of the age identities in secrets.ageKeyFile can open it (its recipients: ${meta.age.map((a) => a.recipient).join(', ')})`,
  );
}

function walk(node: Node, path: readonly string[], meta: SopsMetadata, key: Buffer, hash: Hash): void {
  switch (node.kind) {
    case 'map':
      for (const entry of node.entries) walk(entry.node, [...path, entry.key], meta, key, hash);
      return;
    case 'list':
      for (const item of node.items) walk(item, path, meta, key, hash);
      return;
    case 'leaf': {
      if (node.value === null) return;
      const encrypted = isEncrypted(meta, path);
      let value: Scalar | Uint8Array = node.value;
      if (encrypted) {
        if (typeof node.value !== 'string') {
          throw new SopsError(
            `the value of \`${path.join('.')}\` is not encrypted though the file's rules say it is`,
          );
        }
        value = node.value === '' ? '' : decryptValue(node.value, key, `${path.join(':')}:`, path);
        node.set(value);
      }
      if (!meta.macOnlyEncrypted || encrypted) hash.update(macBytes(value));
      return;
    }
  }
}

/** One `ENC[AES256_GCM,…]` value, typed as SOPS recorded it. */
function decryptValue(text: string, key: Buffer, aad: string, path: readonly string[]): Scalar | Uint8Array {
  const match = ENCRYPTED_VALUE.exec(text);
  const where = `\`${path.join('.')}\``;
  if (!match) throw new SopsError(`the value of ${where} is not an ENC[AES256_GCM,…] value`);
  let plain: Uint8Array;
  try {
    plain = openValue(text, key, aad);
  } catch {
    throw new SopsError(`the value of ${where} does not decrypt: it was changed or moved after encryption`);
  }
  const string = Buffer.from(plain).toString('utf8');
  switch (match[4]) {
    case 'str':
      return Buffer.from(plain).equals(Buffer.from(string, 'utf8')) ? string : plain;
    case 'bytes':
      return plain;
    case 'int':
    case 'float': {
      const n = Number(string);
      if (!Number.isFinite(n)) throw new SopsError(`the value of ${where} is not a number`);
      return n;
    }
    case 'bool':
      if (!/^(true|false|1|0|t|f|TRUE|FALSE|True|False|T|F)$/.test(string)) {
        throw new SopsError(`the value of ${where} is not a boolean`);
      }
      return /^(true|1|t|TRUE|True|T)$/.test(string);
    default:
      throw new SopsError(`the value of ${where} has the unknown type ${match[4] ?? ''}`);
  }
}

/** AES-256-GCM open of an `ENC[…]` value (SOPS uses a 32-byte nonce and a 16-byte tag). */
function openValue(text: string, key: Buffer, aad: string): Uint8Array {
  const match = ENCRYPTED_VALUE.exec(text);
  if (!match) throw new SopsError('not an ENC[AES256_GCM,…] value');
  const [, data = '', iv = '', tag = ''] = match;
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'), { authTagLength: 16 });
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64'));
  return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]);
}

/** The bytes SOPS feeds its MAC for a value (Go's ToBytes: booleans as `True`/`False`). */
export function macBytes(value: Scalar | Uint8Array): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'boolean') return Buffer.from(value ? 'True' : 'False');
  if (typeof value === 'number') return Buffer.from(goFloat(value));
  return Buffer.from(value ?? '', 'utf8');
}

/** Go's strconv.FormatFloat(v, 'f', -1, 64): the shortest digits, never an exponent. */
function goFloat(n: number): string {
  const text = String(n);
  if (!/e/i.test(text)) return text;
  if (Number.isInteger(n)) return BigInt(n).toString();
  return n.toFixed(20).replace(/0+$/, '').replace(/\.$/, '');
}
