import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createGitSource, SourceError } from '../../internal/source/index.js';
import { makeTempDir, removeDir } from '../helpers/git-fixtures.js';
import { createTestRepo } from '../helpers/git-repo.js';
import { startGitServer, type GitServer } from '../helpers/git-server.js';

const TOKEN = 's3cr3t-t0ken-4711';

describe('git source with basic auth', () => {
  let root: string;
  let server: GitServer;
  let revision: string;
  let repo: Awaited<ReturnType<typeof createTestRepo>>;

  beforeAll(async () => {
    root = await makeTempDir();
    repo = await createTestRepo(join(root, 'srv'), 'private');
    revision = await repo.commit({ 'web/compose.yaml': 'services: {web: {image: x}}\n' });
    server = await startGitServer({ root: join(root, 'srv'), auth: { username: 'deploy', password: TOKEN } });
  });
  afterAll(async () => {
    await server.close();
    await removeDir(root);
  });

  it('fails clearly without credentials', async () => {
    const source = createGitSource({ url: server.url('private'), dataDir: join(root, 'none') });
    const error = await source.refresh().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceError);
    expect((error as Error).message).toMatch(/failed: authentication failed \(HTTP 401\)/);
  });

  it('fails clearly with a wrong token, and never shows it', async () => {
    const wrong = `${TOKEN}-wrong`;
    const logs: string[] = [];
    const logger = {
      debug: (m: string, meta?: object) => logs.push(m, JSON.stringify(meta)),
      info: (m: string, meta?: object) => logs.push(m, JSON.stringify(meta)),
      warn: (m: string, meta?: object) => logs.push(m, JSON.stringify(meta)),
      error: (m: string, meta?: object) => logs.push(m, JSON.stringify(meta)),
    };
    for (const options of [
      { url: server.url('private'), auth: { username: 'deploy', token: wrong } },
      { url: server.url('private').replace('//', `//deploy:${wrong}@`) },
    ]) {
      const source = createGitSource({ ...options, dataDir: join(root, 'wrong'), logger });
      const error = await source.refresh().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SourceError);
      expect((error as Error).message).toMatch(/authentication failed/);
      expect((error as Error).message).not.toContain(TOKEN);
      expect(source.location).not.toContain(TOKEN);
    }
    expect(logs.join('\n')).not.toContain(TOKEN);
  });

  it('works with the token, which is never written to disk', async () => {
    const dataDir = join(root, 'ok');
    const source = createGitSource({
      url: server.url('private'),
      auth: { username: 'deploy', token: TOKEN },
      dataDir,
    });
    server.resetRequests();
    expect((await source.refresh()).revision).toBe(revision);
    // The clone: one discovery (challenged, then answered), whose answer the fetch reuses, and
    // the pack request with the credentials the server accepted.
    expect(server.requests.map((r) => `${r.method} ${r.status}`)).toEqual(['GET 401', 'GET 200', 'POST 200']);
    expect(await readFile(join(dataDir, 'repo', 'config'), 'utf8')).not.toContain(TOKEN);
    expect(await readFile(join(dataDir, 'source.json'), 'utf8')).not.toContain(TOKEN);
    expect(await readdir(dataDir)).toEqual(expect.arrayContaining(['repo', 'source.json']));

    // The server asked once: from now on the credentials go up front. Unchanged: one request.
    for (let i = 0; i < 3; i++) {
      server.resetRequests();
      await source.refresh();
      expect(server.requests.map((r) => `${r.method} ${r.status} ${r.authorized}`)).toEqual(['GET 200 true']);
    }

    // Changed: one ref discovery and one pack, both with the credentials, no challenge.
    const next = await repo.commit({ 'web/compose.yaml': 'services: {web: {image: y}}\n' });
    server.resetRequests();
    expect((await source.refresh()).revision).toBe(next);
    expect(server.requests.map((r) => `${r.method} ${r.status} ${r.authorized}`)).toEqual([
      'GET 200 true',
      'POST 200 true',
    ]);
    expect(await readFile(join(dataDir, 'repo', 'config'), 'utf8')).not.toContain(TOKEN);
    const encoded = Buffer.from(`deploy:${TOKEN}`).toString('base64');
    expect(await readFile(join(dataDir, 'repo', 'config'), 'utf8')).not.toContain(encoded);
    expect(await readFile(join(dataDir, 'source.json'), 'utf8')).not.toContain(encoded);

    // Remembered in memory only: a new source (a restarted stackd) is challenged once again.
    const restarted = createGitSource({
      url: server.url('private'),
      auth: { username: 'deploy', token: TOKEN },
      dataDir,
    });
    server.resetRequests();
    await restarted.refresh();
    await restarted.refresh();
    expect(server.requests.map((r) => `${r.method} ${r.status}`)).toEqual(['GET 401', 'GET 200', 'GET 200']);
  });

  it('never sends a rejected token up front', async () => {
    const source = createGitSource({
      url: server.url('private'),
      auth: { username: 'deploy', token: `${TOKEN}-wrong` },
      dataDir: join(root, 'rejected'),
    });
    for (let i = 0; i < 2; i++) {
      server.resetRequests();
      await expect(source.refresh()).rejects.toThrow(/authentication failed/);
      // Challenged, answered with the wrong token, refused: nothing remembered for the next time.
      expect(server.requests.map((r) => `${r.method} ${r.status} ${r.authorized}`)).toEqual([
        'GET 401 false',
        'GET 401 true',
      ]);
    }
  });

  it('never sends credentials to a remote that does not ask for them', async () => {
    const open = await startGitServer({ root: join(root, 'srv') });
    try {
      const source = createGitSource({
        url: open.url('private'),
        auth: { username: 'deploy', token: TOKEN },
        dataDir: join(root, 'open'),
      });
      await source.refresh();
      await repo.commit({ 'web/.env': 'A=1\n' });
      await source.refresh();
      await source.refresh();
      expect(open.requests.map((r) => `${r.method} ${r.status} ${r.authorized}`)).toEqual([
        'GET 200 false',
        'POST 200 false',
        'GET 200 false',
        'POST 200 false',
        'GET 200 false',
      ]);
    } finally {
      await open.close();
    }
  });

  it('takes credentials from the URL userinfo', async () => {
    const url = server.url('private').replace('//', `//deploy:${TOKEN}@`);
    const source = createGitSource({ url, dataDir: join(root, 'userinfo') });
    expect(source.location).toBe(server.url('private'));
    expect((await source.refresh()).revision).toBe(await repo.head());
  });
});
