/** Paths of a stack as compose resolves them, relative to the stack directory. */
import { posix } from 'node:path';

/** `./a/../b` → `b`, `.` → `.`; null for host paths and paths outside the stack directory. */
export function resolveInStack(raw: string, base = '.'): string | null {
  if (raw.startsWith('/') || raw.startsWith('~') || /^[A-Za-z]:[\\/]/.test(raw)) return null;
  const path = posix.normalize(posix.join(base, raw)).replace(/\/+$/, '');
  if (path === '..' || path.startsWith('../')) return null;
  return path === '' ? '.' : path;
}

/** A relative path of a file at `base` as a path relative to the stack directory (`./x`, `../y`). */
export function rebase(path: string, base: string): string {
  if (path.startsWith('/') || path.startsWith('~') || /^[A-Za-z]:[\\/]/.test(path) || isRemote(path))
    return path;
  const joined = posix.normalize(posix.join(base, path)).replace(/\/+$/, '');
  if (joined === '.' || joined === '') return '.';
  return joined.startsWith('../') || joined === '..' ? joined : `./${joined}`;
}

/** A bind source: rebased when relative (`./x`, `../x`), else a host path or a volume name. */
export function rebasePath(path: string, base: string): string {
  return path.startsWith('.') ? rebase(path, base) : path;
}

/**
 * A build context or additional context that is not a directory of the stack: a URL, a Git
 * remote, or a named context (`docker-image://`, `service:`, `target:`, `oci-layout://`).
 */
export function isRemote(context: string): boolean {
  return (
    /^[a-z][a-z0-9+.-]*:\/\//i.test(context) ||
    context.startsWith('git@') ||
    context.startsWith('github.com/') ||
    /^(docker-image|service|target|oci-layout):/.test(context)
  );
}
