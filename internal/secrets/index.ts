/**
 * The encrypted files of the stacks (SOPS and age): opened with the identities of
 * `secrets.ageKeyFile` when a stack is read and again when it is materialized, and digested with
 * a key kept in `dataDir` (HMAC-SHA256), so a service hash moves when a plaintext changes and
 * stays when only the encryption does, without any label, API answer or log holding a digest
 * an attacker could test guesses against.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../pkg/atomicfile/index.js';
import {
  type AgeIdentities,
  type SecretFormat,
  SopsError,
  checkAgeFile,
  checkSops,
  decryptAge,
  decryptSops,
  parseAgeIdentities,
} from '../../pkg/sops/index.js';

export { SopsError, encryptedFileOf, type SecretFormat } from '../../pkg/sops/index.js';

/** What reading a stack learns of one encrypted file. */
export interface OpenedSecret {
  /** The plaintext; undefined when only checked (`stackd validate` has no key). */
  readonly plaintext: Uint8Array | undefined;
  /** Stands for the plaintext in the stack's hashes: keyed, never a bare digest of it. */
  readonly digest: string;
}

export interface SecretOpener {
  /** Whether `open` decrypts (false: it only checks the file's form). */
  readonly decrypts: boolean;
  /** Decrypt (or check) one file; a SopsError says why it cannot be used. */
  open(format: SecretFormat, content: Uint8Array): Promise<OpenedSecret>;
  /** The plaintext of one file (materialize). */
  decrypt(format: SecretFormat, content: Uint8Array): Promise<Uint8Array>;
  /** A keyed digest of any bytes (a stack hash computed over decrypted values is re-keyed with it). */
  digest(data: Uint8Array | string): string;
}

/** The file under `dataDir` holding the digest key (32 random bytes, mode 0600). */
export function digestKeyPath(dataDir: string): string {
  return join(dataDir, 'secrets-digest.key');
}

/** The digest key of `dataDir`, made on first use. */
export async function loadDigestKey(dataDir: string, create: boolean): Promise<Buffer | undefined> {
  const path = digestKeyPath(dataDir);
  const existing = await readFile(path).catch(() => undefined);
  if (existing !== undefined && existing.byteLength === 32) return existing;
  if (!create) return undefined;
  const key = randomBytes(32);
  await writeFileAtomic(path, key, { mode: 0o600, fsync: true });
  return key;
}

/** The identities of `secrets.ageKeyFile` ('' = none). The config format already checked it. */
export async function loadAgeIdentities(file: string): Promise<AgeIdentities> {
  if (file === '') return [];
  return parseAgeIdentities(await readFile(file, 'utf8'));
}

/** The daemon's opener: decrypts with `identities`, digests with `digestKey`. */
export function createSecretOpener(identities: AgeIdentities, digestKey: Buffer): SecretOpener {
  const digest = (data: Uint8Array | string): string =>
    createHmac('sha256', digestKey).update(data).digest('hex');
  const decrypt = async (format: SecretFormat, content: Uint8Array): Promise<Uint8Array> => {
    if (identities.length === 0) {
      throw new SopsError(
        'no age identity is configured: secrets.ageKeyFile (STACKD_SECRETS_AGE_KEY_FILE) is not set or holds none',
      );
    }
    return format === 'age' ? decryptAge(content, identities) : decryptSops(format, content, identities);
  };
  return {
    decrypts: true,
    async open(format, content) {
      const plaintext = await decrypt(format, content);
      return { plaintext, digest: digest(plaintext) };
    },
    decrypt,
    digest,
  };
}

/**
 * `stackd validate`'s opener: checks each file's form without a key; the digest stands for the
 * ciphertext (hashes of such stacks are not the daemon's).
 */
export function checkingSecretOpener(): SecretOpener {
  const digest = (data: Uint8Array | string): string =>
    createHmac('sha256', 'stackd-validate').update(data).digest('hex');
  return {
    decrypts: false,
    open(format, content) {
      if (format === 'age') checkAgeFile(content);
      else checkSops(format, content);
      return Promise.resolve({ plaintext: undefined, digest: digest(content) });
    },
    decrypt() {
      return Promise.reject(new SopsError('stackd validate does not decrypt'));
    },
    digest,
  };
}

/** The opener when no key is configured: a stack holding an encrypted file fails, saying so. */
export const noKeyOpener: SecretOpener = createSecretOpener([], randomBytes(32));
