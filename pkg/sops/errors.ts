/**
 * Why a SOPS or age file cannot be used. The message never holds a value of the file, encrypted
 * or not: it names the key (a path of mapping keys) or the metadata field that is wrong.
 */
export class SopsError extends Error {
  override readonly name = 'SopsError';
}
