/**
 * What can be checked of a SOPS or age file without its key (`stackd validate`): it parses in its
 * format, has SOPS metadata with an age recipient, and every value the file's rules say is
 * encrypted is an `ENC[AES256_GCM,…]` value.
 */
import { SopsError } from './errors.js';
import { parseSopsDocument, type SopsFormat } from './formats.js';
import { ENCRYPTED_VALUE, isEncrypted, readMetadata, type SopsMetadata } from './metadata.js';
import type { Node } from './tree.js';
import { checkAgeFile } from './age.js';

/** Throws a SopsError saying what is wrong; returns the recipients' public keys. */
export function checkSops(format: SopsFormat, content: Uint8Array): readonly string[] {
  const doc = parseSopsDocument(format, content);
  const meta = readMetadata(doc.metadata);
  for (const branch of doc.branches) walk(branch, [], meta);
  return meta.age.map((a) => a.recipient);
}

function walk(node: Node, path: readonly string[], meta: SopsMetadata): void {
  if (node.kind === 'map') for (const e of node.entries) walk(e.node, [...path, e.key], meta);
  else if (node.kind === 'list') for (const item of node.items) walk(item, path, meta);
  else if (node.value !== null && node.value !== '' && isEncrypted(meta, path)) {
    if (typeof node.value !== 'string' || !ENCRYPTED_VALUE.test(node.value)) {
      throw new SopsError(
        `the value of \`${path.join('.')}\` is not encrypted though the file's rules say it is`,
      );
    }
  }
}

export { checkAgeFile };
