import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createGitSource, SourceError, validateDirectory } from '../../internal/source/index.js';
import { makeTempDir, removeDir, writeTree } from '../helpers/git-fixtures.js';
import { createTestRepo, git, type TestRepo } from '../helpers/git-repo.js';

describe('git source on a local repository', () => {
  let root: string;
  let repo: TestRepo;
  let first: string;

  beforeAll(async () => {
    root = await makeTempDir();
    repo = await createTestRepo(root, 'local');
    first = await repo.commit({
      'stacks/web/compose.yaml': 'services: {web: {image: x}}\n',
      'other/x/compose.yaml': 'services: {}\n',
    });
  });
  afterAll(() => removeDir(root));

  it.each([
    ['a working clone', () => repo.workDir],
    ['a bare repository', () => repo.bareDir],
    ['a file:// URL', () => pathToFileURL(repo.bareDir).href],
  ])('reads %s at the branch, with source.path', async (_what, url) => {
    const source = createGitSource({ url: url(), path: 'stacks', dataDir: join(root, 'data') });
    const snapshot = await source.refresh();
    expect(snapshot.revision).toBe(first);
    expect([...snapshot.stacks.keys()]).toEqual(['web']);
    expect(snapshot.stacks.get('web')?.dir).toBe('stacks/web');
  });

  it('counts only committed content and follows new commits', async () => {
    const source = createGitSource({ url: repo.workDir, dataDir: join(root, 'data') });
    const one = await source.refresh();
    await writeTree(repo.workDir, { 'stacks/new/compose.yaml': 'services: {}\n' });
    expect(await source.refresh()).toBe(one);
    await git(repo.workDir, 'add', '--all');
    await git(repo.workDir, 'commit', '--quiet', '-m', 'new stack');
    const two = await source.refresh();
    expect(two.revision).toBe(await git(repo.workDir, 'rev-parse', 'HEAD'));
    expect([...two.stacks.keys()]).toEqual(['other/x', 'stacks/new', 'stacks/web']);
    expect(await source.loadCached()).toBe(two);
  });

  it('gives the same hashes as validate on a checkout of the same commit', async () => {
    await repo.commit({
      'stacks/web/.env': 'A=1\n',
      'stacks/web/run.sh': { content: '#!/bin/sh\n', mode: 0o755 },
      'stacks/web/current': { symlink: 'run.sh' },
      'stacks/web/compose.override.yaml': 'services: {web: {volumes: ["./run.sh:/run.sh"]}}\n',
    });
    const snapshot = await createGitSource({ url: repo.bareDir, dataDir: join(root, 'data') }).refresh();
    const report = await validateDirectory(repo.workDir, {});
    expect(report.stacks.length).toBe(snapshot.stacks.size);
    for (const checked of report.stacks) {
      const stack = snapshot.stacks.get(checked.id);
      expect(checked.composeHash).toBe(stack?.composeHash);
      expect(checked.services).toEqual(
        [...(stack?.services.values() ?? [])].map((s) => ({ name: s.name, hash: s.hash })),
      );
    }
    expect(snapshot.stacks.get('stacks/web')?.fileModes).toEqual(
      new Map([
        ['current', '120000'],
        ['run.sh', '100755'],
      ]),
    );
  });

  it('fails clearly on a path that is not a repository or a missing branch', async () => {
    const notRepo = createGitSource({ url: join(root, 'nothing'), dataDir: join(root, 'data') });
    await expect(notRepo.refresh()).rejects.toThrow(SourceError);
    await expect(notRepo.refresh()).rejects.toThrow(/is not a Git repository/);
    expect(await notRepo.loadCached()).toBeUndefined();
    const noBranch = createGitSource({ url: repo.bareDir, branch: 'dev', dataDir: join(root, 'data') });
    await expect(noBranch.refresh()).rejects.toThrow(/branch `dev` not found/);
  });

  it('fails when source.path is missing, keeping the last snapshot', async () => {
    const source = createGitSource({ url: repo.bareDir, path: 'nowhere', dataDir: join(root, 'data') });
    await expect(source.refresh()).rejects.toThrow(/path `nowhere` is not a directory/);
    expect(source.current()).toBeUndefined();
  });
});
