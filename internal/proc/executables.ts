/**
 * Finding programs to run without trusting what a container could write: whether a path is
 * inside a directory, and whether it is an executable regular file. Used where stackd pins
 * compose and where it finds git and ssh.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { isAbsolute, relative } from 'node:path';

/** `a` is `b` or lies below it (both absolute, already resolved). */
export function isInside(a: string, b: string): boolean {
  const rel = relative(b, a);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** `path` is a regular file this process may execute. */
export async function isExecutable(path: string): Promise<boolean> {
  try {
    if (!(await stat(path)).isFile()) return false;
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
