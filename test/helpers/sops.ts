/**
 * Test-side SOPS encryption, for fixtures made in the test (no `sops` binary is packaged for
 * this machine's Debian). It follows SOPS's file layout as `sops encrypt` writes it (3.8):
 * a random 32-byte data key wrapped for each age recipient by the real `age` CLI (armored);
 * each value AES-256-GCM with a 32-byte nonce, authenticated with its path of keys joined by `:`
 * plus a trailing `:`; `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]`; the MAC = SHA-512 over the
 * plaintext values (booleans as True/False), upper-case hex, encrypted with `lastmodified` as
 * its authenticated data. The product decrypts with its own code; one test also opens these
 * files with an independent implementation (the `sops-age` package), which is tested against
 * files the real `sops` made.
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { isMap, isScalar, isSeq, parseDocument } from 'yaml';

export interface AgeKey {
  /** `AGE-SECRET-KEY-1…` */
  readonly identity: string;
  /** `age1…` */
  readonly recipient: string;
  /** The identity file as age-keygen writes it (comments and the key line). */
  readonly file: string;
}

/** A fresh X25519 key from the real age-keygen. */
export function ageKeygen(): AgeKey {
  const file = execFileSync('age-keygen', [], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const identity = file.split('\n').find((l) => l.startsWith('AGE-SECRET-KEY-1')) ?? '';
  const recipient = execFileSync('age-keygen', ['-y'], { input: `${identity}\n`, encoding: 'utf8' }).trim();
  return { identity, recipient, file };
}

/** `content` encrypted for `recipients` by the real age CLI (binary, or armored with `armor`). */
export function ageEncrypt(
  content: string | Uint8Array,
  recipients: readonly string[],
  armor = false,
): Buffer {
  return execFileSync('age', [...(armor ? ['-a'] : []), ...recipients.flatMap((r) => ['-r', r])], {
    input: content,
  });
}

export interface SopsOptions {
  readonly recipients: readonly string[];
  /** @default '2026-01-02T03:04:05Z' */
  readonly lastModified?: string;
  /** @default '_unencrypted' */
  readonly unencryptedSuffix?: string;
  /** A data key to reuse (a re-encryption with `sops updatekeys` keeps it); random by default. */
  readonly dataKey?: Buffer;
}

type Value = string | number | boolean;

class Encryptor {
  readonly key: Buffer;
  readonly hash = createHash('sha512');

  constructor(readonly options: SopsOptions) {
    this.key = options.dataKey ?? randomBytes(32);
  }

  encrypted(path: readonly string[]): boolean {
    const suffix = this.options.unencryptedSuffix ?? '_unencrypted';
    return !path.some((p) => p.endsWith(suffix));
  }

  /** The ENC[…] of one value at `path` (and its MAC contribution). */
  value(value: Value, path: readonly string[]): Value {
    const encrypted = this.encrypted(path);
    this.hash.update(
      typeof value === 'boolean'
        ? value
          ? 'True'
          : 'False'
        : typeof value === 'number'
          ? String(value)
          : value,
    );
    if (!encrypted) return value;
    if (value === '') return '';
    const type =
      typeof value === 'boolean'
        ? 'bool'
        : typeof value === 'number'
          ? Number.isInteger(value)
            ? 'int'
            : 'float'
          : 'str';
    return seal(String(value), this.key, `${path.join(':')}:`, type);
  }

  metadata(): Record<string, unknown> {
    const lastmodified = this.options.lastModified ?? '2026-01-02T03:04:05Z';
    const mac = seal(this.hash.digest('hex').toUpperCase(), this.key, lastmodified, 'str');
    return {
      age: this.options.recipients.map((recipient) => ({
        recipient,
        enc: ageEncrypt(this.key, [recipient], true).toString('utf8'),
      })),
      lastmodified,
      mac,
      unencrypted_suffix: this.options.unencryptedSuffix ?? '_unencrypted',
      version: '3.8.1',
    };
  }
}

function seal(plain: string, key: Buffer, aad: string, type: string): string {
  const iv = randomBytes(32);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  const tag = cipher.getAuthTag();
  return `ENC[AES256_GCM,data:${data.toString('base64')},iv:${iv.toString('base64')},tag:${tag.toString('base64')},type:${type}]`;
}

/** A dotenv file (`KEY=value` lines, `#` comments kept in plain text) as `sops encrypt` writes it. */
export function sopsDotenv(text: string, options: SopsOptions): string {
  const e = new Encryptor(options);
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      out.push(line);
      continue;
    }
    const at = line.indexOf('=');
    const key = line.slice(0, at);
    out.push(`${key}=${String(e.value(line.slice(at + 1).replaceAll('\\n', '\n'), [key]))}`);
  }
  const flat = flatten(e.metadata());
  for (const [key, value] of flat) out.push(`sops_${key}=${value.replaceAll('\n', '\\n')}`);
  return `${out.join('\n')}\n`;
}

function flatten(meta: Record<string, unknown>, prefix = ''): [string, string][] {
  const out: [string, string][] = [];
  for (const [key, value] of Object.entries(meta)) {
    const name = prefix === '' ? key : `${prefix}__map_${key}`;
    if (Array.isArray(value)) {
      value.forEach((item, i) => {
        out.push(...flatten(item as Record<string, unknown>, `${name}__list_${i}`));
      });
    } else out.push([name, String(value)]);
  }
  return out.sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

/** A YAML file encrypted the way `sops encrypt` does (values in place, `sops:` appended). */
export function sopsYaml(text: string, options: SopsOptions): string {
  const e = new Encryptor(options);
  const doc = parseDocument(text);
  const walk = (node: unknown, path: readonly string[]): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        walk(pair.value, [...path, isScalar(pair.key) ? String(pair.key.value) : String(pair.key)]);
      }
    } else if (isSeq(node)) for (const item of node.items) walk(item, path);
    else if (isScalar(node) && node.value !== null) {
      const v = node.value as Value;
      node.value = e.value(v, path);
    }
  };
  walk(doc.contents, []);
  doc.set('sops', doc.createNode(e.metadata()));
  return doc.toString();
}

/** A JSON object encrypted the way `sops encrypt` does. */
export function sopsJson(value: Record<string, unknown>, options: SopsOptions): string {
  const e = new Encryptor(options);
  const walk = (v: unknown, path: readonly string[]): unknown => {
    if (Array.isArray(v)) return v.map((item) => walk(item, path));
    if (typeof v === 'object' && v !== null) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, [...path, k])]));
    }
    return e.value(v as Value, path);
  };
  const encrypted = walk(value, []) as Record<string, unknown>;
  return `${JSON.stringify({ ...encrypted, sops: e.metadata() }, null, '\t')}\n`;
}

/** Any file in SOPS's binary format (`{"data": ENC[…], "sops": …}`). */
export function sopsBinary(content: string, options: SopsOptions): string {
  return sopsJson({ data: content }, options);
}
