import { createHash } from 'node:crypto';

/** Lower-case hex SHA-256 of bytes or a UTF-8 string. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The `sha256:<64 hex>` form used for compose and service hashes. */
export function prefixedSha256(data: Uint8Array | string): string {
  return `sha256:${sha256Hex(data)}`;
}
