/**
 * A new commit costs what it changed (issue 18): trees whose id did not change are neither listed
 * nor parsed again, in one process (the memo) and across a restart (`dataDir/snapshot.json`).
 * Real Git repositories, read as the source reads them.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { memoryLogger } from '../../internal/log/memory.test-helpers.js';
import { createGitSource } from '../../internal/source/index.js';
import { SnapshotMemo, buildSnapshot } from '../../internal/source/snapshot.js';
import { cacheFingerprint, restoreMemo, serializeMemo } from '../../internal/source/snapshot_cache.js';
import { DEFAULT_STACK_LIMITS } from '../../internal/source/limits.js';
import { gitTreeReader } from '../../internal/source/tree_git.js';
import type { Snapshot } from '../../internal/source/types.js';
import { makeTempDir, removeDir } from '../helpers/git-fixtures.js';
import { createTestRepo, type TestRepo } from '../helpers/git-repo.js';

const stack = (image: string): string => `services: {app: {image: "${image}", network_mode: none}}\n`;
const everything = (): boolean => true;

describe('snapshot memo', () => {
  let root: string;
  let repo: TestRepo;
  let first: string;

  const build = async (
    revision: string,
    memo: SnapshotMemo,
    environment: Record<string, string> = {},
  ): Promise<Snapshot> =>
    buildSnapshot(await gitTreeReader(repo.bareDir, revision), {
      root: '',
      scope: everything,
      fetchedAt: new Date(0),
      memo,
      environment,
    });

  beforeAll(async () => {
    root = await makeTempDir();
    repo = await createTestRepo(root, 'memo');
    first = await repo.commit({
      'README.md': 'one\n',
      'apps/a/compose.yaml': stack('a:1'),
      'apps/b/compose.yaml': 'services: {app: {image: "b:${TAG:-1}", environment: {PW: "${PW:-none}"}}}\n',
      'apps/b/conf/app.conf': 'x\n',
      'c/compose.yaml': stack('c:1'),
      'd/compose.yaml': 'services: [not, a, mapping]\n',
      'docs/guide/index.md': 'no stack\n',
    });
  });
  afterAll(() => removeDir(root));

  it('reads only the root of a commit that changed a file at the root', async () => {
    const memo = new SnapshotMemo();
    const one = await build(first, memo);
    expect(memo.last).toMatchObject({ stacksParsed: 4, stacksReused: 0 });
    expect(memo.last.treesRead).toBeGreaterThan(8);
    const readme = await repo.commit({ 'README.md': 'two\n' });
    const two = await build(readme, memo);
    expect(memo.last).toEqual({ treesRead: 1, stacksParsed: 0, stacksReused: 4 });
    expect(two.revision).toBe(readme);
    for (const [id, desired] of one.stacks) expect(two.stacks.get(id)).toBe(desired);
  });

  it('reads and parses only the subtree of a changed stack, after a commit that read only the root', async () => {
    const memo = new SnapshotMemo();
    await build(await repo.head(), memo);
    const one = await build(await repo.commit({ 'README.md': 'three\n' }), memo);
    expect(memo.last.treesRead).toBe(1);
    const changed = await repo.commit({ 'apps/b/conf/app.conf': 'y\n' });
    const two = await build(changed, memo);
    // root, apps, apps/b (discovery), then apps/b and apps/b/conf (its files).
    expect(memo.last).toEqual({ treesRead: 5, stacksParsed: 1, stacksReused: 3 });
    expect(two.stacks.get('apps/b')?.composeHash).not.toBe(one.stacks.get('apps/b')?.composeHash);
    expect(two.stacks.get('apps/b')?.files.get('conf/app.conf')).not.toBe(
      one.stacks.get('apps/b')?.files.get('conf/app.conf'),
    );
    for (const id of ['apps/a', 'c', 'd']) expect(two.stacks.get(id)).toBe(one.stacks.get(id));
  });

  it('parses a stack again when a variable it interpolates changed, and only then', async () => {
    const memo = new SnapshotMemo();
    const head = await repo.head();
    const one = await build(head, memo, { TAG: '1', OTHER: 'a' });
    await build(head, memo, { TAG: '1', OTHER: 'b' });
    expect(memo.last.stacksParsed).toBe(0);
    const two = await build(head, memo, { TAG: '2', OTHER: 'b' });
    expect(memo.last.stacksParsed).toBe(1);
    expect(two.stacks.get('apps/b')?.services.get('app')?.image).toBe('b:2');
    expect(two.stacks.get('apps/b')?.composeHash).not.toBe(one.stacks.get('apps/b')?.composeHash);
    expect(two.stacks.get('apps/a')).toBe(one.stacks.get('apps/a'));
  });

  it('keeps the memo across a restart, without the invalid stack or a hashed value', async () => {
    const memo = new SnapshotMemo();
    const head = await repo.head();
    const environment = { PW: 'secret-value' };
    const one = await build(head, memo, environment);
    const fingerprint = cacheFingerprint({ root: '', limits: DEFAULT_STACK_LIMITS });
    const text = serializeMemo(memo, fingerprint);
    expect(text).not.toContain('secret-value');
    const restored = new SnapshotMemo();
    expect(restoreMemo(restored, text, fingerprint)).toBe(true);
    expect(restored.stacks.size).toBe(3); // `d` is invalid: read again
    const two = await build(head, restored, environment);
    // The root, and `d`'s files: `d` is read again.
    expect(restored.last).toEqual({ treesRead: 2, stacksParsed: 1, stacksReused: 3 });
    expect(two.stacks).toEqual(one.stacks);
  });

  it('ignores a cache of other settings, another format or a damaged file', () => {
    const memo = new SnapshotMemo();
    const fingerprint = cacheFingerprint({ root: '', limits: DEFAULT_STACK_LIMITS });
    const other = cacheFingerprint({ root: 'apps', limits: DEFAULT_STACK_LIMITS });
    const smaller = cacheFingerprint({ root: '', limits: { ...DEFAULT_STACK_LIMITS, maxStackFiles: 3 } });
    expect(new Set([fingerprint, other, smaller]).size).toBe(3);
    const text = JSON.stringify({ format: 1, fingerprint, dirs: [], stacks: [['k', { id: 'x' }]] });
    for (const bad of [
      '{',
      'null',
      JSON.stringify({ format: 999, fingerprint, dirs: [], stacks: [] }),
      JSON.stringify({ format: 1, fingerprint: other, dirs: [], stacks: [] }),
      JSON.stringify({ format: 1, fingerprint, dirs: [['p', [{ id: 1 }]]], stacks: [] }),
      text,
    ]) {
      expect(restoreMemo(memo, bad, fingerprint)).toBe(false);
    }
    expect(memo.stacks.size + memo.dirs.size).toBe(0);
  });

  it('a restarted source reports every stack without parsing it again', async () => {
    const dataDir = join(root, 'data');
    const url = repo.bareDir;
    const before = await createGitSource({ url, dataDir }).refresh();
    const cache = join(dataDir, 'snapshot.json');
    expect(JSON.parse(await readFile(cache, 'utf8'))).toMatchObject({ format: 1 });
    const { logger, lines } = memoryLogger();
    const after = await createGitSource({ url, dataDir, logger }).refresh();
    expect(after.stacks).toEqual(before.stacks);
    const fetched = (await lines()).find((l) => l['event'] === 'source.fetch');
    expect(fetched).toMatchObject({ result: 'changed', treesRead: 2, parsed: 1 }); // `d` only
    // A damaged cache costs a full read, never the start.
    await writeFile(cache, '{"format": 1, "fingerp');
    const again = createGitSource({ url, dataDir, logger: memoryLogger().logger });
    expect((await again.refresh()).stacks).toEqual(before.stacks);
  });
});
