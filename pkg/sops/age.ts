/** Plain age files (`secret.age`), binary or armored, opened with the official age implementation. */
import { Decrypter, armor } from 'age-encryption';
import { SopsError } from './errors.js';
import type { AgeIdentities } from './decrypt.js';

const BINARY_HEADER = 'age-encryption.org/v1\n';
const ARMOR_BEGIN = '-----BEGIN AGE ENCRYPTED FILE-----';

/** The age file's bytes, unarmored when it is armored; a SopsError when it is not an age file. */
function ciphertextOf(content: Uint8Array): Uint8Array {
  const head = Buffer.from(content.subarray(0, 64)).toString('latin1');
  if (head.startsWith(BINARY_HEADER)) return content;
  if (head.trimStart().startsWith(ARMOR_BEGIN)) {
    try {
      return armor.decode(Buffer.from(content).toString('utf8').trim());
    } catch {
      throw new SopsError('its age armor is damaged');
    }
  }
  throw new SopsError('it is not an age file (no age-encryption.org/v1 header, no age armor)');
}

export function checkAgeFile(content: Uint8Array): void {
  ciphertextOf(content);
}

export async function decryptAge(content: Uint8Array, identities: AgeIdentities): Promise<Uint8Array> {
  const ciphertext = ciphertextOf(content);
  if (identities.length === 0) throw new SopsError('no age identity is configured (secrets.ageKeyFile)');
  const decrypter = new Decrypter();
  for (const identity of identities) decrypter.addIdentity(identity);
  try {
    return await decrypter.decrypt(ciphertext, 'uint8array');
  } catch (error) {
    const reason = (error as Error).message;
    throw new SopsError(
      /no identity matched/i.test(reason)
        ? 'none of the age identities in secrets.ageKeyFile can open it'
        : 'the age file is damaged or was changed after encryption',
    );
  }
}
