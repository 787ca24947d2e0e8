/**
 * A bare Git repository to serve and a working clone to commit into, driven by the `git` CLI
 * (the real thing, as a user's pushes would be).
 */
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeTree, type FileTree } from './git-fixtures.js';

const run = promisify(execFile);

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'stackd test',
  GIT_AUTHOR_EMAIL: 'test@stackd.invalid',
  GIT_COMMITTER_NAME: 'stackd test',
  GIT_COMMITTER_EMAIL: 'test@stackd.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

export async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', args, { cwd, env: GIT_ENV, maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim();
}

export interface TestRepo {
  /** The bare repository (what a server serves): `<root>/<name>.git`. */
  readonly bareDir: string;
  /** The working clone commits are made in. */
  readonly workDir: string;
  readonly branch: string;
  /** Write/delete files, commit everything, push; returns the new commit id. */
  commit(files: FileTree, message?: string, options?: { readonly force?: boolean }): Promise<string>;
  /** `git reset --hard <rev>` in the working clone (then `commit(..., {force: true})` rewrites history). */
  reset(rev: string): Promise<void>;
  /** The commit the bare repository's branch points at. */
  head(): Promise<string>;
}

/** Create `<root>/<name>.git` (bare) and `<root>/<name>-work` (a clone of it). */
export async function createTestRepo(root: string, name: string, branch = 'main'): Promise<TestRepo> {
  const bareDir = join(root, `${name}.git`);
  const workDir = join(root, `${name}-work`);
  await mkdir(bareDir, { recursive: true });
  await git(bareDir, 'init', '--quiet', '--bare', `--initial-branch=${branch}`);
  await git(root, 'init', '--quiet', `--initial-branch=${branch}`, workDir);
  await git(workDir, 'remote', 'add', 'origin', bareDir);
  let count = 0;
  return {
    bareDir,
    workDir,
    branch,
    async commit(files, message, options = {}) {
      await writeTree(workDir, files);
      await git(workDir, 'add', '--all');
      await git(workDir, 'commit', '--quiet', '--allow-empty', '-m', message ?? `commit ${++count}`);
      await git(
        workDir,
        'push',
        '--quiet',
        ...(options.force === true ? ['--force'] : []),
        'origin',
        `HEAD:${branch}`,
      );
      return git(workDir, 'rev-parse', 'HEAD');
    },
    async reset(rev) {
      await git(workDir, 'reset', '--quiet', '--hard', rev);
    },
    head() {
      return git(bareDir, 'rev-parse', `refs/heads/${branch}`);
    },
  };
}
