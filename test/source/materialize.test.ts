import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { lstat, readFile, readlink, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createSecretOpener } from '../../internal/secrets/index.js';
import { createGitSource, type GitSource } from '../../internal/source/index.js';
import type { MaterializeReport } from '../../internal/source/materialize.js';
import { ageEncrypt, ageKeygen, sopsDotenv } from '../helpers/sops.js';
import { makeTempDir, removeDir, writeTree } from '../helpers/git-fixtures.js';
import { createTestRepo, type TestRepo } from '../helpers/git-repo.js';
import { startGitServer, type GitServer } from '../helpers/git-server.js';

describe('materialize', () => {
  let root: string;
  let repo: TestRepo;
  let server: GitServer;
  let source: GitSource;
  let dest: string;

  beforeAll(async () => {
    root = await makeTempDir();
    repo = await createTestRepo(join(root, 'srv'), 'stacks');
    server = await startGitServer({ root: join(root, 'srv') });
    source = createGitSource({ url: server.url('stacks'), dataDir: join(root, 'data') });
    dest = join(root, 'work', 'web');
  });
  afterAll(async () => {
    await server.close();
    await removeDir(root);
  });

  const materialize = async (): Promise<void> => {
    const stack = (await source.refresh()).stacks.get('web');
    if (stack === undefined) throw new Error('no stack web');
    await source.materialize(stack, join(root, 'work'));
  };

  it('writes the tracked files with their modes', async () => {
    await repo.commit({
      'web/compose.yaml': 'services: {web: {image: x}}\n',
      'web/conf/app.conf': 'a=1\n',
      'web/bin/run.sh': { content: '#!/bin/sh\necho hi\n', mode: 0o755 },
      'web/link': { symlink: 'conf/app.conf' },
      'web/old.txt': 'old\n',
      'web/gone/deep/file.txt': 'x\n',
      'other/compose.yaml': 'services: {}\n',
    });
    await materialize();
    expect(await readFile(join(dest, 'conf/app.conf'), 'utf8')).toBe('a=1\n');
    expect((await stat(join(dest, 'bin/run.sh'))).mode & 0o777).toBe(0o755);
    expect((await stat(join(dest, 'compose.yaml'))).mode & 0o777).toBe(0o644);
    expect(await readlink(join(dest, 'link'))).toBe('conf/app.conf');
    // Only this stack's files, and the manifest lives outside destDir.
    expect((await readdir(dest)).sort()).toEqual(['bin', 'compose.yaml', 'conf', 'gone', 'link', 'old.txt']);
    expect(await readdir(join(root, 'data', 'manifests'))).toHaveLength(1);
  });

  it('keeps untracked files, deletes removed tracked files, updates changed ones', async () => {
    await writeTree(dest, { 'data/db.sqlite': 'runtime data', 'gone/keep.txt': 'untracked' });
    const before = await lstat(join(dest, 'compose.yaml'));
    await repo.commit({
      'web/old.txt': null,
      'web/gone/deep/file.txt': null,
      'web/conf/app.conf': 'a=2\n',
      'web/bin/run.sh': { content: '#!/bin/sh\necho hi\n', mode: 0o644 },
    });
    await materialize();
    expect(await readFile(join(dest, 'data/db.sqlite'), 'utf8')).toBe('runtime data');
    expect(await readFile(join(dest, 'gone/keep.txt'), 'utf8')).toBe('untracked');
    await expect(stat(join(dest, 'old.txt'))).rejects.toThrow(/ENOENT/);
    await expect(stat(join(dest, 'gone/deep'))).rejects.toThrow(/ENOENT/);
    expect(await readFile(join(dest, 'conf/app.conf'), 'utf8')).toBe('a=2\n');
    expect((await stat(join(dest, 'bin/run.sh'))).mode & 0o777).toBe(0o644);
    // Unchanged files are not rewritten.
    expect((await lstat(join(dest, 'compose.yaml'))).ino).toBe(before.ino);
  });

  it('restores a tracked file edited or deleted by hand', async () => {
    await writeTree(dest, { 'compose.yaml': 'tampered', 'conf/app.conf': null });
    await materialize();
    expect(await readFile(join(dest, 'compose.yaml'), 'utf8')).toBe('services: {web: {image: x}}\n');
    expect(await readFile(join(dest, 'conf/app.conf'), 'utf8')).toBe('a=2\n');
  });
});

describe('materialize: decrypted files', () => {
  let root: string;
  let repo: TestRepo;
  let server: GitServer;
  let source: GitSource;
  let dest: string;
  const key = ageKeygen();

  beforeAll(async () => {
    root = await makeTempDir();
    repo = await createTestRepo(join(root, 'srv'), 'stacks');
    server = await startGitServer({ root: join(root, 'srv') });
    const secrets = createSecretOpener([key.identity], randomBytes(32));
    source = createGitSource({ url: server.url('stacks'), dataDir: join(root, 'data'), secrets });
    dest = join(root, 'work', 'web');
  });
  afterAll(async () => {
    await server.close();
    await removeDir(root);
  });

  const materialize = async (): Promise<MaterializeReport> => {
    const stack = (await source.refresh()).stacks.get('web');
    if (stack?.error !== null) throw new Error(`web: ${stack?.error ?? 'missing'}`);
    return source.materialize(stack, join(root, 'work'));
  };
  const compose = 'services: {web: {image: x, env_file: app.env}}\n';

  it('writes the plaintext beside the original (0600), rewrites it only when it changed or was edited, deletes it with its source', async () => {
    await repo.commit({
      'web/compose.yaml': compose,
      'web/app.sops.env': sopsDotenv('A=1\n', { recipients: [key.recipient] }),
      'web/conf/token.age': ageEncrypt('t0k\n', [key.recipient], true).toString('utf8'),
    });
    expect((await materialize()).decrypted).toEqual(['app.env', 'conf/token']);
    expect(await readFile(join(dest, 'app.env'), 'utf8')).toBe('A=1\n');
    expect((await stat(join(dest, 'app.env'))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(dest, 'conf/token'), 'utf8')).toBe('t0k\n');
    const before = await lstat(join(dest, 'app.env'));
    // Re-encrypted, same plaintext: nothing written.
    await repo.commit({ 'web/app.sops.env': sopsDotenv('A=1\n', { recipients: [key.recipient] }) });
    expect((await materialize()).decrypted).toEqual([]);
    expect((await lstat(join(dest, 'app.env'))).ino).toBe(before.ino);
    // Edited by hand: restored.
    await writeTree(dest, { 'app.env': 'A=tampered\n' });
    expect((await materialize()).decrypted).toEqual(['app.env']);
    expect(await readFile(join(dest, 'app.env'), 'utf8')).toBe('A=1\n');
    // The source leaves Git: the plaintext goes too (the stack now uses a plain file of its own).
    await repo.commit({ 'web/app.sops.env': null, 'web/app.env': 'A=2\n', 'web/conf/token.age': null });
    await materialize();
    expect(await readFile(join(dest, 'app.env'), 'utf8')).toBe('A=2\n');
    await expect(stat(join(dest, 'conf/token'))).rejects.toThrow(/ENOENT/);
    const manifest = (await readdir(join(root, 'data', 'manifests')))[0] ?? '';
    expect(await readFile(join(root, 'data', 'manifests', manifest), 'utf8')).not.toMatch(/A=1/);
  });
});
