import { workDirOf } from '../layout/index.js';
import { gitBlobId } from './build_stack.js';
import { rm } from 'node:fs/promises';
import { legacyManifestPath, manifestPath, readManifest, writeManifest } from './manifest.js';
import { MODE_EXECUTABLE, MODE_FILE, MODE_SYMLINK } from './tree.js';
import type { SecretFormat } from '../../pkg/sops/index.js';
import type { SecretOpener } from '../secrets/index.js';
import type { DesiredStack } from './types.js';
import { Directory, type EntryKind, Walker, WorkTreeError } from './worktree.js';

export interface MaterializeOptions {
  readonly stack: DesiredStack;
  /** The directory every work tree lives under (`dataDir/work`): trusted, created if missing. */
  readonly workRoot: string;
  /** Directory of the manifests (outside every work tree). */
  readonly manifestDir: string;
  /** Content of a blob by id. */
  readonly readBlob: (oid: string) => Promise<Uint8Array>;
  /** Decrypts the stack's encrypted files (`stack.secrets`). @default none: such a stack throws */
  readonly secrets?: SecretOpener;
}

/** What one materialize did. */
export interface MaterializeReport {
  /** The stack's work directory (`workRoot/<id>`). */
  readonly dir: string;
  /** Files written (new, changed, or restored after a hand edit). */
  readonly written: number;
  /** Files deleted because they left Git. */
  readonly deleted: number;
  /** Decrypted files written (plain paths), when their plaintext changed or was missing. */
  readonly decrypted: readonly string[];
  /**
   * The tracked `.env`, read from Git (not from the work tree a container may write), or
   * undefined when the stack has none: what compose is given as `--env-file`.
   */
  readonly env: Uint8Array | undefined;
}

/**
 * Make `workRoot/<id>` hold exactly the stack's tracked files: files that differ are replaced
 * atomically (modes kept: executable bit, symbolic links), files an earlier materialize wrote
 * that are gone from the stack are deleted (with directories that become empty), and nothing
 * else is touched, so data containers write into bind mounts survives.
 *
 * Nothing is ever written, read or deleted through a symbolic link: the tree is walked by
 * directory handle (see worktree.ts). Where the work tree's shape differs from Git's in a way
 * stackd did not make — a symbolic link or file where Git has a directory, a directory where Git
 * has a file, a symbolic link where Git has a file or the reverse — it throws a WorkTreeError
 * naming the path, having written nothing through it.
 */
export async function materializeStack(options: MaterializeOptions): Promise<MaterializeReport> {
  const { stack } = options;
  const idParts = stack.id.split('/');
  const dir = workDirOf(options.workRoot, stack.id);
  const manifestFile = manifestPath(options.manifestDir, stack.id, dir);
  const legacyFile = legacyManifestPath(options.manifestDir, stack.id, dir);
  const manifest = (await readManifest(manifestFile)) ?? (await readManifest(legacyFile));
  const previous = new Map(Object.entries(manifest?.files ?? {}));
  const secrets = stack.secrets ?? new Map<string, { source: string; format: SecretFormat }>();
  // In the manifest a decrypted file is `secret:<encrypted path>`: tracked (deleted when its
  // source leaves Git), and no digest of its plaintext is kept.
  const tracked = new Map(stack.files);
  for (const [plain, { source }] of secrets) tracked.set(plain, `${SECRET_PREFIX}${source}`);
  const root = await Directory.open(options.workRoot, idParts);
  let walker = new Walker(root);
  let written = 0;
  let deleted = 0;
  const decrypted: string[] = [];
  try {
    const gone = [...previous.keys()].filter((path) => !tracked.has(path)).sort();
    for (const path of gone) if (await removeTracked(walker, path)) deleted++;
    await removeEmptyDirs(walker, gone, tracked);
    // Handles of directories just removed must not be reused for writing.
    await walker.close();
    walker = new Walker(root);

    // Record every file this run may write before writing any, so none can leak past a crash.
    const files = Object.fromEntries(tracked);
    await writeManifest(manifestFile, {
      stack: stack.id,
      destDir: dir,
      files: { ...Object.fromEntries(previous), ...files },
    });
    await rm(legacyFile, { force: true }).catch(() => undefined);
    for (const path of [...stack.files.keys()].sort()) {
      const oid = stack.files.get(path) ?? '';
      const mode = stack.fileModes?.get(path) ?? MODE_FILE;
      const { parent, name } = await locate(walker, path, true);
      if (parent === undefined) continue; // create: never undefined
      if (await isCurrent(parent, name, oid, mode, previous.get(path))) continue;
      const content = await options.readBlob(oid);
      if (mode === MODE_SYMLINK) await parent.writeSymlink(name, Buffer.from(content).toString('utf8'));
      else await parent.writeFile(name, content, mode === MODE_EXECUTABLE ? 0o755 : 0o644);
      written++;
    }
    for (const plain of [...secrets.keys()].sort()) {
      if (await writeDecrypted(walker, plain, await plaintextOf(plain), previous.get(plain))) {
        written++;
        decrypted.push(plain);
      }
    }
    await writeManifest(manifestFile, { stack: stack.id, destDir: dir, files });
  } finally {
    await walker.close();
    await root.close();
  }
  const envOid = stack.files.get('.env');
  const env = secrets.has('.env')
    ? await plaintextOf('.env')
    : envOid === undefined
      ? undefined
      : await options.readBlob(envOid);
  return { dir, written, deleted, decrypted, env };

  async function plaintextOf(plain: string): Promise<Uint8Array> {
    const secret = secrets.get(plain);
    const oid = secret === undefined ? undefined : stack.files.get(secret.source);
    if (secret === undefined || oid === undefined || options.secrets === undefined) {
      throw new Error(`${stack.id}: no way to decrypt ${plain}`);
    }
    return options.secrets.decrypt(secret.format, await options.readBlob(oid));
  }
}

const SECRET_PREFIX = 'secret:';

/**
 * Write a decrypted file (mode 0600) unless it already holds exactly this plaintext. A symbolic
 * link there is replaced only when the last materialize wrote this path; a directory, or a link
 * something else made, is a WorkTreeError. Nothing is written through a link.
 */
async function writeDecrypted(
  walker: Walker,
  path: string,
  plaintext: Uint8Array,
  previous: string | undefined,
): Promise<boolean> {
  const { parent, name } = await locate(walker, path, true);
  if (parent === undefined) return false; // create: never undefined
  const kind = await parent.kind(name);
  if (kind === 'file') {
    const current = await parent.readFile(name);
    const bits = await parent.fileMode(name);
    if (current !== undefined && Buffer.from(plaintext).equals(current) && bits === 0o600) return false;
  } else if (kind !== 'missing' && !(kind === 'symlink' && previous !== undefined)) {
    throw new WorkTreeError(
      path,
      `\`${path}\` is ${describeKind(kind)} where stackd writes a decrypted file; something other than stackd put it there`,
    );
  }
  await parent.writeFile(name, plaintext, 0o600);
  return true;
}

/** The paths the last materialize of stack `id` under `workRoot` wrote (from its manifest). */
export async function trackedFiles(
  manifestDir: string,
  id: string,
  workRoot: string,
): Promise<ReadonlySet<string>> {
  const dir = workDirOf(workRoot, id);
  const manifest =
    (await readManifest(manifestPath(manifestDir, id, dir))) ??
    (await readManifest(legacyManifestPath(manifestDir, id, dir)));
  return new Set(Object.keys(manifest?.files ?? {}));
}

/** The open parent directory of `path` and its last component. */
async function locate(
  walker: Walker,
  path: string,
  create: boolean,
): Promise<{ parent: Directory | undefined; name: string }> {
  const parts = path.split('/');
  const name = parts.pop() ?? '';
  return { parent: await walker.dir(parts, create), name };
}

/**
 * Delete a file an earlier materialize wrote. A parent that is not a plain directory any more
 * (a container swapped it) is never followed: the file is left where it is.
 */
async function removeTracked(walker: Walker, path: string): Promise<boolean> {
  let parent: Directory | undefined;
  try {
    parent = (await locate(walker, path, false)).parent;
  } catch (error) {
    if (error instanceof WorkTreeError) return false;
    throw error;
  }
  return parent === undefined ? false : parent.remove(path.split('/').pop() ?? '');
}

/** Remove the directories of deleted files that are now empty and hold no tracked file, deepest first. */
async function removeEmptyDirs(
  walker: Walker,
  deletedPaths: readonly string[],
  tracked: ReadonlyMap<string, string>,
): Promise<void> {
  const keep = new Set<string>();
  for (const path of tracked.keys()) {
    const parts = path.split('/');
    for (let i = parts.length - 1; i > 0; i--) keep.add(parts.slice(0, i).join('/'));
  }
  const dirs = new Set<string>();
  for (const path of deletedPaths) {
    const parts = path.split('/');
    for (let i = parts.length - 1; i > 0; i--) {
      const dir = parts.slice(0, i).join('/');
      if (!keep.has(dir)) dirs.add(dir);
    }
  }
  for (const dir of [...dirs].sort((a, b) => b.split('/').length - a.split('/').length || (a < b ? 1 : -1))) {
    try {
      const { parent, name } = await locate(walker, dir, false);
      await parent?.removeDirIfEmpty(name);
    } catch (error) {
      if (!(error instanceof WorkTreeError)) throw error;
    }
  }
}

/**
 * The entry already has this content and mode (compared by Git blob id). An entry of another
 * kind than Git's is replaced only when it is what the last materialize wrote (`previousOid`);
 * otherwise something else put it there, and that is a WorkTreeError.
 */
async function isCurrent(
  parent: Directory,
  name: string,
  oid: string,
  mode: string,
  previousOid: string | undefined,
): Promise<boolean> {
  const kind = await parent.kind(name);
  if (kind === 'missing') return false;
  const wanted: EntryKind = mode === MODE_SYMLINK ? 'symlink' : 'file';
  const blob = await blobOf(parent, name, kind);
  if (kind === wanted && blob !== undefined) {
    if (blob !== oid) return false;
    if (kind === 'symlink') return true;
    const bits = await parent.fileMode(name);
    return bits !== undefined && ((bits & 0o100) !== 0) === (mode === MODE_EXECUTABLE);
  }
  if (blob !== undefined && blob === previousOid) return false; // ours: Git changed its kind
  const path = parent.relOf(name);
  throw new WorkTreeError(
    path,
    `\`${path}\` is ${describeKind(kind)} where Git has ${describeKind(wanted)}; something other than stackd changed it`,
  );
}

/** The Git blob id of a file's content or a link's target, as it is on disk. */
async function blobOf(parent: Directory, name: string, kind: EntryKind): Promise<string | undefined> {
  if (kind === 'symlink') {
    const target = await parent.readLink(name);
    return target === undefined ? undefined : gitBlobId(Buffer.from(target, 'utf8'));
  }
  if (kind !== 'file') return undefined;
  const content = await parent.readFile(name);
  return content === undefined ? undefined : gitBlobId(content);
}

function describeKind(kind: EntryKind): string {
  switch (kind) {
    case 'symlink':
      return 'a symbolic link';
    case 'directory':
      return 'a directory';
    case 'file':
      return 'a file';
    default:
      return 'a special file';
  }
}
