/**
 * Commits no `git add` can make: trees written object by object (`git hash-object --literally`),
 * so a test can push what a hostile forge user could — two entries of one name, `..`, `.GIT`.
 * Nothing is ever checked out: the working clone's index and files are not touched.
 */
import { execa } from 'execa';
import { git, type TestRepo } from './git-repo.js';

export type CraftEntry =
  | { readonly name: string; readonly file: string; readonly mode?: string }
  | { readonly name: string; readonly symlink: string }
  | { readonly name: string; readonly tree: readonly CraftEntry[] };

async function hashObject(cwd: string, type: 'blob' | 'tree', content: Buffer): Promise<string> {
  const { stdout } = await execa('git', ['hash-object', '-t', type, '--literally', '-w', '--stdin'], {
    cwd,
    input: content,
  });
  return stdout.trim();
}

/** Git's order: by name, a tree's name compared as if it ended in `/`. */
function sortKey(entry: { name: string; mode: string }): string {
  return entry.mode === '40000' ? `${entry.name}/` : entry.name;
}

/** Write a tree (and its blobs and subtrees) exactly as given, duplicates and all. */
export async function writeTree(cwd: string, entries: readonly CraftEntry[]): Promise<string> {
  const rows: { name: string; mode: string; oid: string }[] = [];
  for (const entry of entries) {
    if ('tree' in entry)
      rows.push({ name: entry.name, mode: '40000', oid: await writeTree(cwd, entry.tree) });
    else if ('symlink' in entry)
      rows.push({
        name: entry.name,
        mode: '120000',
        oid: await hashObject(cwd, 'blob', Buffer.from(entry.symlink)),
      });
    else
      rows.push({
        name: entry.name,
        mode: entry.mode ?? '100644',
        oid: await hashObject(cwd, 'blob', Buffer.from(entry.file)),
      });
  }
  rows.sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0));
  const body = Buffer.concat(
    rows.map((r) => Buffer.concat([Buffer.from(`${r.mode} ${r.name}\0`), Buffer.from(r.oid, 'hex')])),
  );
  return hashObject(cwd, 'tree', body);
}

/** The entries of a tree, raw (`git ls-tree -z`). */
async function lsTree(cwd: string, tree: string): Promise<{ mode: string; name: string; oid: string }[]> {
  const { stdout } = await execa('git', ['ls-tree', '-z', tree], { cwd });
  return stdout
    .split('\0')
    .filter((line) => line !== '')
    .map((line) => {
      const tab = line.indexOf('\t');
      const [mode = '', , oid = ''] = line.slice(0, tab).split(' ');
      return { mode: mode === '040000' ? '40000' : mode, name: line.slice(tab + 1), oid };
    });
}

/** `base` with the tree at `path` (`/`-separated directories) set to `tree`. */
async function replaceAt(cwd: string, base: string, path: readonly string[], tree: string): Promise<string> {
  const [head, ...rest] = path;
  if (head === undefined) return tree;
  const entries = await lsTree(cwd, base);
  const existing = entries.find((e) => e.name === head && e.mode === '40000');
  const child =
    rest.length === 0 ? tree : await replaceAt(cwd, existing?.oid ?? (await writeTree(cwd, [])), rest, tree);
  const rows = [...entries.filter((e) => e.name !== head), { mode: '40000', name: head, oid: child }];
  rows.sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : 0));
  const body = Buffer.concat(
    rows.map((r) => Buffer.concat([Buffer.from(`${r.mode} ${r.name}\0`), Buffer.from(r.oid, 'hex')])),
  );
  return hashObject(cwd, 'tree', body);
}

/**
 * Commit the current branch's tree with the directory at `dir` replaced by `entries`, push it,
 * and move the working clone's HEAD there (its index and files stay as they were). Returns the
 * commit id.
 */
export async function pushCrafted(
  repo: TestRepo,
  dirs: Readonly<Record<string, readonly CraftEntry[]>>,
): Promise<string> {
  const cwd = repo.workDir;
  let root = await git(cwd, 'rev-parse', 'HEAD^{tree}');
  for (const [dir, entries] of Object.entries(dirs)) {
    root = await replaceAt(cwd, root, dir.split('/'), await writeTree(cwd, entries));
  }
  const commit = await git(cwd, 'commit-tree', root, '-p', 'HEAD', '-m', 'crafted tree');
  await git(cwd, 'push', '--quiet', 'origin', `${commit}:refs/heads/${repo.branch}`);
  await git(cwd, 'update-ref', 'HEAD', commit);
  return commit;
}
