/**
 * Which files of a stack are encrypted, and the plain name each is decrypted to: `app.sops.env`
 * → `app.env`, `db.sops.yaml` → `db.yaml`, `x.sops.json` → `x.json`, `cert.sops` → `cert`
 * (SOPS's binary format), `secret.age` → `secret` (a plain age file).
 */
import type { SopsFormat } from './formats.js';

export type SecretFormat = SopsFormat | 'age';

export interface EncryptedFile {
  /** The path the plaintext is written to. */
  readonly plain: string;
  readonly format: SecretFormat;
}

const RULES: readonly (readonly [RegExp, SecretFormat, string])[] = [
  [/^(.*)\.sops\.env$/, 'dotenv', '.env'],
  [/^(.*)\.sops\.(yaml|yml)$/, 'yaml', ''],
  [/^(.+)\.sops\.json$/, 'json', '.json'],
  [/^(.+)\.sops$/, 'binary', ''],
  [/^(.+)\.age$/, 'age', ''],
];

/** The encrypted file `path` names (its plain path and format), or undefined for any other file. */
export function encryptedFileOf(path: string): EncryptedFile | undefined {
  const slash = path.lastIndexOf('/');
  const dir = path.slice(0, slash + 1);
  const name = path.slice(slash + 1);
  if (name === '.sops.yaml' || name === '.sops.yml') return undefined; // SOPS's own configuration
  for (const [pattern, format, suffix] of RULES) {
    const match = pattern.exec(name);
    if (!match) continue;
    const base = match[1] ?? '';
    const plain = format === 'yaml' ? `${base}.${match[2] ?? 'yaml'}` : `${base}${suffix}`;
    if (base === '' && format !== 'dotenv') return undefined;
    return { plain: `${dir}${plain}`, format };
  }
  return undefined;
}
