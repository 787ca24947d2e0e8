import fs from 'node:fs';
import git from 'isomorphic-git';
import {
  checkEntries,
  joinPath,
  MODE_DIR,
  UnsafeTreeError,
  type TreeEntry,
  type TreeReader,
} from './tree.js';

/**
 * One commit of a Git object store read as a tree. Trees are read by object id and remembered
 * by path, so listing a directory costs one object read however deep it is.
 */
export async function gitTreeReader(gitdir: string, commit: string, cache: object = {}): Promise<TreeReader> {
  const { commit: parsed } = await git.readCommit({ fs, gitdir, oid: commit, cache });
  const trees = new Map<string, string>([['', parsed.tree]]);

  const treeOid = async (path: string): Promise<string | undefined> => {
    const known = trees.get(path);
    if (known !== undefined || path === '') return known;
    const slash = path.lastIndexOf('/');
    const parent = slash === -1 ? '' : path.slice(0, slash);
    const entries = await list(parent);
    const entry = entries?.find((e) => e.name === path.slice(slash + 1) && e.kind === 'dir');
    return entry?.oid;
  };

  const list = async (path: string): Promise<readonly TreeEntry[] | undefined> => {
    const oid = await treeOid(path);
    if (oid === undefined) return undefined;
    const tree = await readTreeSafely(gitdir, oid, cache, path);
    const entries: TreeEntry[] = [];
    for (const item of tree) {
      if (item.type === 'tree') {
        trees.set(joinPath(path, item.path), item.oid);
        entries.push({ name: item.path, kind: 'dir', mode: MODE_DIR, oid: item.oid });
      } else if (item.type === 'blob') {
        entries.push({ name: item.path, kind: 'file', mode: item.mode, oid: item.oid });
      }
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    checkEntries(path, entries);
    return entries;
  };

  return {
    revision: commit,
    list,
    async read(path, entry) {
      if (entry.oid === undefined) throw new Error(`no object id for ${path}`);
      return readBlob(gitdir, entry.oid, cache);
    },
  };
}

/**
 * One tree object. A tree isomorphic-git refuses to parse — an entry name Git refuses, a file
 * mode it does not know (old Git wrote `100664`) — is an UnsafeTreeError naming the directory,
 * with the entry names read from the raw object; a missing object is thrown as it is.
 */
async function readTreeSafely(gitdir: string, oid: string, cache: object, path: string) {
  try {
    return (await git.readTree({ fs, gitdir, oid, cache })).tree;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'NotFoundError') throw error;
    const where = path === '' ? 'the repository root' : `\`${path}\``;
    const names = await rawEntryNames(gitdir, oid, cache);
    if (code === 'UnsafeFilepathError') {
      const name = (error as { data?: { filepath?: unknown } }).data?.filepath;
      throw new UnsafeTreeError(
        `${where} has an entry named ${JSON.stringify(String(name))}, which Git refuses to check out (\`.\`, \`..\`, \`.git\` in any spelling, or a name with a slash)`,
        { names, cause: error },
      );
    }
    // isomorphic-git's InternalError wraps the cause in a plea to report it; keep the cause.
    const detail = (error as { data?: { message?: unknown } }).data?.message;
    const reason = typeof detail === 'string' ? detail : ((error as Error).message.split('\n')[0] ?? '');
    throw new UnsafeTreeError(`${where} cannot be read: ${reason}`, { names, cause: error });
  }
}

/** The entry names of a tree object, parsed from its raw bytes (`<mode> <name>\0<20-byte id>`…). */
async function rawEntryNames(gitdir: string, oid: string, cache: object): Promise<string[]> {
  try {
    // The one API giving a tree's raw bytes (readTree is what refused to parse it).
    // eslint-disable-next-line @typescript-eslint/no-deprecated
    const { object } = await git.readObject({ fs, gitdir, oid, cache, format: 'content' });
    if (!(object instanceof Uint8Array)) return [];
    const buffer = Buffer.from(object);
    const names: string[] = [];
    for (let at = 0; at < buffer.length;) {
      const space = buffer.indexOf(0x20, at);
      const nul = buffer.indexOf(0, space);
      if (space === -1 || nul === -1) break;
      names.push(buffer.subarray(space + 1, nul).toString('utf8'));
      at = nul + 21;
    }
    return names;
  } catch {
    return [];
  }
}

export async function readBlob(gitdir: string, oid: string, cache: object = {}): Promise<Uint8Array> {
  const { blob } = await git.readBlob({ fs, gitdir, oid, cache });
  return blob;
}
