import fs from 'node:fs';
import git from 'isomorphic-git';
import { joinPath, MODE_DIR, type TreeEntry, type TreeReader } from './tree.js';

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
    const { tree } = await git.readTree({ fs, gitdir, oid, cache });
    const entries: TreeEntry[] = [];
    for (const item of tree) {
      if (item.type === 'tree') {
        trees.set(joinPath(path, item.path), item.oid);
        entries.push({ name: item.path, kind: 'dir', mode: MODE_DIR, oid: item.oid });
      } else if (item.type === 'blob') {
        entries.push({ name: item.path, kind: 'file', mode: item.mode, oid: item.oid });
      }
    }
    return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
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

export async function readBlob(gitdir: string, oid: string, cache: object = {}): Promise<Uint8Array> {
  const { blob } = await git.readBlob({ fs, gitdir, oid, cache });
  return blob;
}
