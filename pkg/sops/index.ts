/**
 * SOPS files (age recipients) and plain age files: which files of a stack are encrypted, checks
 * without the key, and decryption to the plaintext `sops decrypt` / `age -d` would print.
 */
export { SopsError } from './errors.js';
export type { SopsFormat } from './formats.js';
export { decryptSops, type AgeIdentities } from './decrypt.js';
export { decryptAge } from './age.js';
export { checkSops, checkAgeFile } from './check.js';
export { encryptedFileOf, type EncryptedFile, type SecretFormat } from './names.js';
export { parseAgeIdentities } from './identities.js';
