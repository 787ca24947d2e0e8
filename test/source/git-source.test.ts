import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { createGitSource, SourceError, type Snapshot } from '../../internal/source/index.js';
import { makeTempDir, removeDir } from '../helpers/git-fixtures.js';
import { createTestRepo, type TestRepo } from '../helpers/git-repo.js';
import { startGitServer, type GitServer } from '../helpers/git-server.js';

const WEB = 'services:\n  web:\n    image: "stackd-test/busybox:1"\n';

describe('git source over http', () => {
  let root: string;
  let server: GitServer;
  let repo: TestRepo;

  beforeAll(async () => {
    root = await makeTempDir();
    repo = await createTestRepo(join(root, 'srv'), 'stacks');
    server = await startGitServer({ root: join(root, 'srv') });
  });
  afterAll(async () => {
    await server.close();
    await removeDir(root);
  });

  const newSource = (dataDir: string) => createGitSource({ url: server.url('stacks'), dataDir });

  it('clones, fetches incrementally, and costs one ref discovery when nothing changed', async () => {
    const first = await repo.commit({
      'apps/web/compose.yaml': WEB,
      'db/compose.yml': 'services: {db: {image: x}}\n',
    });
    const source = newSource(join(root, 'data-1'));
    const published: Snapshot[] = [];
    source.subscribe((s) => published.push(s));

    const one = await source.refresh();
    expect(one.revision).toBe(first);
    expect([...one.stacks.keys()]).toEqual(['apps/web', 'db']);
    expect(one.stacks.get('apps/web')?.project).toBe('apps_web');
    expect(source.current()).toBe(one);
    expect(published).toEqual([one]);

    server.resetRequests();
    const same = await source.refresh();
    expect(same).toBe(one);
    expect(server.requests.map((r) => `${r.method} ${r.path}?${r.query}`)).toEqual([
      'GET /stacks.git/info/refs?service=git-upload-pack',
    ]);
    expect(published).toHaveLength(1);

    const second = await repo.commit({ 'apps/web/compose.yaml': WEB.replace(':1', ':2') });
    server.resetRequests();
    const two = await source.refresh();
    expect(two.revision).toBe(second);
    expect(two.stacks.get('apps/web')?.error).toBeNull();
    expect(two.stacks.get('apps/web')?.composeHash).not.toBe(one.stacks.get('apps/web')?.composeHash);
    // The unchanged stack is reused as it was.
    expect(two.stacks.get('db')).toBe(one.stacks.get('db'));
    // One ref discovery (its answer reused by the fetch), one pack.
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /stacks.git/info/refs',
      'POST /stacks.git/git-upload-pack',
    ]);
    const pack = server.requests.find((r) => r.method === 'POST');
    expect(pack?.path).toBe('/stacks.git/git-upload-pack');
    // Incremental: the pack holds the new commit, not the whole history again.
    expect(pack?.bytesOut).toBeLessThan(2000);
    expect(published).toEqual([one, two]);
  });

  it('follows a force-push', async () => {
    const source = newSource(join(root, 'data-2'));
    const base = await repo.commit({ 'apps/web/compose.yaml': WEB }, 'base');
    await repo.commit({ 'apps/web/.env': 'A=1\n' }, 'to be dropped');
    await source.refresh();
    await repo.reset(base);
    const rewritten = await repo.commit({ 'apps/web/.env': 'A=2\n' }, 'rewritten', { force: true });
    const snapshot = await source.refresh();
    expect(snapshot.revision).toBe(rewritten);
    expect(snapshot.stacks.get('apps/web')?.files.has('.env')).toBe(true);
  });

  it('keeps the last good snapshot when a fetch fails, and recovers', async () => {
    const source = newSource(join(root, 'data-3'));
    const good = await source.refresh();
    await repo.commit({ 'apps/web/README.md': 'new\n' });
    server.setFailing(true);
    try {
      const error = await source.refresh().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SourceError);
      expect((error as SourceError).name).toBe('SourceError');
      expect((error as SourceError).message).toMatch(
        /^fetching http:\/\/127\.0\.0\.1:\d+\/stacks\.git failed: /,
      );
      expect((error as SourceError).cause).toBeDefined();
      expect(source.current()).toBe(good);
    } finally {
      server.setFailing(false);
    }
    expect((await source.refresh()).revision).toBe(await repo.head());
  });

  it('gives up on a hanging server after fetchTimeoutMs, or when aborted', async () => {
    const source = createGitSource({
      url: server.url('stacks'),
      dataDir: join(root, 'data-7'),
      fetchTimeoutMs: 300,
    });
    server.setStalled(true);
    try {
      await expect(source.refresh()).rejects.toThrow(/failed: timed out after 300 ms$/);
      const controller = new AbortController();
      const pending = source.refresh(controller.signal);
      controller.abort();
      await expect(pending).rejects.toBeInstanceOf(SourceError);
      expect(source.current()).toBeUndefined();
    } finally {
      server.setStalled(false);
    }
  });

  it('names a missing branch', async () => {
    const source = createGitSource({
      url: server.url('stacks'),
      branch: 'nope',
      dataDir: join(root, 'data-4'),
    });
    await expect(source.refresh()).rejects.toThrow(/branch `nope` not found on http:/);
  });

  it('restores the snapshot from the local repository after a restart with the server down', async () => {
    const dataDir = join(root, 'data-5');
    const before = await newSource(dataDir).refresh();
    const url = server.url('stacks');
    const down = await startGitServer({ root: join(root, 'srv') });
    await down.close(); // a port nobody listens on
    const offline = createGitSource({
      url: url.replace(/:\d+\//, `:${new URL(down.baseUrl).port}/`),
      dataDir,
    });
    // Another URL: the stored state is not trusted.
    expect(await offline.loadCached()).toBeUndefined();

    await server.close();
    try {
      const restarted = newSource(dataDir);
      await expect(restarted.refresh()).rejects.toBeInstanceOf(SourceError);
      const cached = await restarted.loadCached();
      expect(cached?.revision).toBe(before.revision);
      expect(cached?.fetchedAt.toISOString()).toBe(before.fetchedAt.toISOString());
      expect(restarted.current()).toBe(cached);
      expect([...(cached?.stacks.keys() ?? [])]).toEqual([...before.stacks.keys()]);
    } finally {
      server = await startGitServer({ root: join(root, 'srv') });
    }
  });

  it('coalesces concurrent refreshes', async () => {
    const source = newSource(join(root, 'data-6'));
    const results = await Promise.all([source.refresh(), source.refresh(), source.refresh()]);
    expect(new Set(results.map((s) => s.revision)).size).toBe(1);
    expect(results[1]).toBe(results[2]);
  });
});
