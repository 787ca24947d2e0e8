/**
 * The `sops` metadata of a file, checked field by field: the age recipients with their wrapped
 * data keys, `lastmodified`, the encrypted `mac`, and the rules saying which values are encrypted.
 */
import { armor } from 'age-encryption';
import { SopsError } from './errors.js';

export interface AgeRecipient {
  /** The public key, `age1…`. */
  readonly recipient: string;
  /** The data key, wrapped for that recipient (an age file). */
  readonly enc: Uint8Array;
}

export interface SopsMetadata {
  readonly age: readonly AgeRecipient[];
  readonly lastModified: string;
  /** `ENC[AES256_GCM,…]` of the MAC, authenticated with `lastmodified`. */
  readonly mac: string;
  readonly unencryptedSuffix?: string;
  readonly encryptedSuffix?: string;
  readonly unencryptedRegex?: RegExp;
  readonly encryptedRegex?: RegExp;
  readonly macOnlyEncrypted: boolean;
}

/** Key groups SOPS knows besides age: a file with only these cannot be opened here. */
const OTHER_KEYS = ['pgp', 'kms', 'gcp_kms', 'azure_kv', 'hc_vault', 'key_groups'] as const;

export const ENCRYPTED_VALUE = /^ENC\[AES256_GCM,data:([^,]*),iv:([^,]+),tag:([^,]+),type:([a-z]+)\]$/;

export function readMetadata(raw: unknown): SopsMetadata {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new SopsError('it has no `sops` metadata: encrypt it with `sops encrypt` (or rename it)');
  }
  const meta = raw as Record<string, unknown>;
  const text = (field: string): string | undefined => {
    const value = meta[field];
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') throw new SopsError(`its sops.${field} is not a string`);
    return value;
  };
  const lastModified = text('lastmodified');
  if (lastModified === undefined) throw new SopsError('its sops metadata has no `lastmodified`');
  const mac = text('mac');
  if (mac === undefined) throw new SopsError('its sops metadata has no `mac`');
  if (!ENCRYPTED_VALUE.test(mac)) throw new SopsError('its sops.mac is not an ENC[AES256_GCM,…] value');
  const list = meta['age'];
  const age: AgeRecipient[] = [];
  if (list !== undefined && list !== null) {
    if (!Array.isArray(list)) throw new SopsError('its sops.age is not a list');
    for (const [i, entry] of (list as unknown[]).entries()) {
      const e = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
      const recipient = e['recipient'];
      const enc = e['enc'];
      if (typeof recipient !== 'string' || !recipient.startsWith('age1')) {
        throw new SopsError(`its sops.age[${i}].recipient is not an age recipient (age1…)`);
      }
      if (typeof enc !== 'string') throw new SopsError(`its sops.age[${i}].enc is missing`);
      let wrapped: Uint8Array;
      try {
        wrapped = armor.decode(enc.trim());
      } catch {
        throw new SopsError(`its sops.age[${i}].enc is not an armored age file`);
      }
      age.push({ recipient, enc: wrapped });
    }
  }
  if (age.length === 0) {
    const others = OTHER_KEYS.filter((k) => {
      const v = meta[k];
      return Array.isArray(v) ? v.length > 0 : v !== undefined && v !== null;
    });
    throw new SopsError(
      others.length > 0
        ? `it is encrypted for ${others.join(', ')} only; stackd decrypts age: add an age recipient (sops updatekeys)`
        : 'its sops metadata names no age recipient',
    );
  }
  const regex = (field: string): RegExp | undefined => {
    const source = text(field);
    if (source === undefined) return undefined;
    try {
      return new RegExp(source);
    } catch {
      throw new SopsError(`its sops.${field} is not a regular expression stackd can read`);
    }
  };
  const macOnly = meta['mac_only_encrypted'];
  const unencryptedSuffix = text('unencrypted_suffix');
  const encryptedSuffix = text('encrypted_suffix');
  const unencryptedRegex = regex('unencrypted_regex');
  const encryptedRegex = regex('encrypted_regex');
  return {
    age,
    lastModified,
    mac,
    ...(unencryptedSuffix === undefined ? {} : { unencryptedSuffix }),
    ...(encryptedSuffix === undefined ? {} : { encryptedSuffix }),
    ...(unencryptedRegex === undefined ? {} : { unencryptedRegex }),
    ...(encryptedRegex === undefined ? {} : { encryptedRegex }),
    macOnlyEncrypted: macOnly === true || macOnly === 'true',
  };
}

/** Whether SOPS encrypted the value at `path` (mapping keys from the root), by the file's rules. */
export function isEncrypted(meta: SopsMetadata, path: readonly string[]): boolean {
  let encrypted = true;
  const { unencryptedSuffix, encryptedSuffix, unencryptedRegex, encryptedRegex } = meta;
  if (unencryptedSuffix !== undefined && path.some((p) => p.endsWith(unencryptedSuffix))) encrypted = false;
  if (encryptedSuffix !== undefined) encrypted = path.some((p) => p.endsWith(encryptedSuffix));
  if (unencryptedRegex !== undefined && path.some((p) => unencryptedRegex.test(p))) encrypted = false;
  if (encryptedRegex !== undefined) encrypted = path.some((p) => encryptedRegex.test(p));
  return encrypted;
}
