/** Whether a client address is on this host's loopback: 127.0.0.0/8, ::1, or IPv4-mapped 127.x. */
import { isIPv4, isIPv6 } from 'node:net';

/** Canonical `::ffff:7fxx:xxxx`: the IPv4-mapped form of an address in 127.0.0.0/8. */
const MAPPED_LOOPBACK = /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/;

export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const bare = address.replace(/%.*$/, '');
  if (isIPv4(bare)) return bare.split('.')[0] === '127';
  if (!isIPv6(bare)) return false;
  const canonical = canonicalIPv6(bare);
  return canonical === '::1' || MAPPED_LOOPBACK.test(canonical);
}

/** The WHATWG URL parser's compressed, lowercase, hex-only form (`::ffff:127.0.0.1` → `::ffff:7f00:1`). */
function canonicalIPv6(address: string): string {
  try {
    return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return '';
  }
}
