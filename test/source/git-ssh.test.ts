/**
 * The SSH source against a real OpenSSH server on loopback (test/helpers/sshd.ts: sshd,
 * git-shell behind a forced command, a generated ed25519 deploy key, known_hosts made with
 * ssh-keyscan) and the system git: clone, incremental fetch, one connection and no pack when
 * nothing changed, unknown / changed host keys and a wrong key refused with clear errors, the
 * last good snapshot kept through failures, the timeout killing the whole fetch, and the key
 * (content or path) in no process's argv nor in the repository's config.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createGitSource, SourceError, type GitSource } from '../../internal/source/index.js';
import { makeTempDir, removeDir } from '../helpers/git-fixtures.js';
import { createTestRepo, git, type TestRepo } from '../helpers/git-repo.js';
import { environOf, processesMentioning, processTable, startSshd, type Sshd } from '../helpers/sshd.js';

const run = promisify(execFile);
const WEB = 'services:\n  web:\n    image: "stackd-test/busybox:1"\n';

describe('git source over SSH', () => {
  let root: string;
  let repos: string;
  let sshd: Sshd;
  let repo: TestRepo;
  let keyText: string;
  let sources = 0;

  beforeAll(async () => {
    root = await makeTempDir('stackd-ssh-');
    repos = join(root, 'repos');
    repo = await createTestRepo(repos, 'stacks');
    sshd = await startSshd({ root: join(root, 'sshd'), repos });
    keyText = await readFile(sshd.clientKey, 'utf8');
  });
  afterAll(async () => {
    await sshd.close();
    await removeDir(root);
  });

  const newSource = (
    options: {
      keyFile?: string;
      knownHostsFile?: string;
      url?: string;
      branch?: string;
      timeoutMs?: number;
    } = {},
  ): { source: GitSource; dataDir: string } => {
    const dataDir = join(root, `data-${++sources}`);
    const source = createGitSource({
      url: options.url ?? sshd.url('stacks.git'),
      dataDir,
      ...(options.branch === undefined ? {} : { branch: options.branch }),
      ...(options.timeoutMs === undefined ? {} : { fetchTimeoutMs: options.timeoutMs }),
      ssh: {
        keyFile: options.keyFile ?? sshd.clientKey,
        knownHostsFile: options.knownHostsFile ?? sshd.knownHosts,
      },
    });
    return { source, dataDir };
  };
  /** Objects in the local store: loose count and in-pack count. */
  const objects = async (dataDir: string): Promise<string> =>
    (await git(join(dataDir, 'repo'), 'count-objects', '-v'))
      .split('\n')
      .filter((line) => /^(count|in-pack|packs):/.test(line))
      .join(' ');

  it('clones, fetches incrementally, and costs one connection and no pack when nothing changed', async () => {
    // A large file, so that an incremental pack is visibly not the whole history again.
    const big = randomBytes(96 * 1024).toString('base64');
    const first = await repo.commit({
      'apps/web/compose.yaml': WEB,
      'apps/web/data.txt': big,
      'db/compose.yml': 'services: {db: {image: x}}\n',
    });
    const { source, dataDir } = newSource();
    await sshd.resetCalls();
    const one = await source.refresh();
    expect(one.revision).toBe(first);
    expect([...one.stacks.keys()]).toEqual(['apps/web', 'db']);
    expect(one.stacks.get('apps/web')?.error).toBeNull();
    const clone = await sshd.calls();
    expect(clone).toHaveLength(1);
    expect(clone[0]?.command).toBe(`git-upload-pack '${join(repos, 'stacks.git')}'`);
    expect(clone[0]?.bytesOut).toBeGreaterThan(96 * 1024);

    // Unchanged: one connection (the ref advertisement), no pack, no new object.
    const before = await objects(dataDir);
    await sshd.resetCalls();
    const same = await source.refresh();
    expect(same).toBe(one);
    const unchanged = await sshd.calls();
    expect(unchanged).toHaveLength(1);
    expect(unchanged[0]?.bytesOut).toBeLessThan(2000);
    expect(await objects(dataDir)).toBe(before);

    // A new commit: one connection, a pack of the change only.
    const second = await repo.commit({ 'apps/web/compose.yaml': WEB.replace(':1', ':2') });
    await sshd.resetCalls();
    const two = await source.refresh();
    expect(two.revision).toBe(second);
    expect(two.stacks.get('apps/web')?.composeHash).not.toBe(one.stacks.get('apps/web')?.composeHash);
    expect(two.stacks.get('db')).toBe(one.stacks.get('db'));
    const incremental = await sshd.calls();
    expect(incremental).toHaveLength(1);
    expect(incremental[0]?.bytesOut).toBeLessThan(4000);

    // The remote is never configured: the repository's config names no URL, key or host.
    const config = await readFile(join(dataDir, 'repo', 'config'), 'utf8');
    expect(config).not.toMatch(/url|ssh|127\.0\.0\.1|id_ed25519|known_hosts/i);
    const repoFiles = await readdir(join(dataDir, 'repo'));
    expect(repoFiles).not.toContain('FETCH_HEAD');
    expect(repoFiles).not.toContain('logs');
    // What is kept for a restart is the URL (no secret in an SSH URL) and the commit.
    const restored = createGitSource({
      url: sshd.url('stacks.git'),
      dataDir,
      ssh: { keyFile: sshd.clientKey, knownHostsFile: sshd.knownHosts },
    });
    expect((await restored.loadCached())?.revision).toBe(second);
  });

  it('follows a force-push', async () => {
    const { source } = newSource();
    const base = await repo.commit({ 'apps/web/.env': 'A=0\n' }, 'base');
    await repo.commit({ 'apps/web/.env': 'A=1\n' }, 'to be dropped');
    await source.refresh();
    await repo.reset(base);
    const rewritten = await repo.commit({ 'apps/web/.env': 'A=2\n' }, 'rewritten', { force: true });
    expect((await source.refresh()).revision).toBe(rewritten);
  });

  it('refuses an unknown host key, a wrong key, a missing branch or repository, keeping the last good snapshot', async () => {
    const { source } = newSource();
    const good = await source.refresh();
    const fails = async (s: GitSource): Promise<string> => {
      const error = await s.refresh().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(SourceError);
      return (error as SourceError).message;
    };
    const where = `${sshd.host}:${sshd.port}`;

    // known_hosts without this server: an unknown host key, never accepted on first use.
    const stranger = join(root, 'stranger_known_hosts');
    const otherPub = (await readFile(`${sshd.otherKey}.pub`, 'utf8')).split(' ').slice(0, 2).join(' ');
    await writeFile(stranger, `[git.example.com]:2222 ${otherPub}\n`);
    const unknown = newSource({ knownHostsFile: stranger }).source;
    expect(await fails(unknown)).toBe(
      `fetching ${sshd.url('stacks.git')} failed: the SSH host key of ${where} is not in source.auth.knownHostsFile (${stranger}); refused. Add it, after checking its fingerprint with the server's operator: ssh-keyscan -p ${sshd.port} ${sshd.host} >> ${stranger}`,
    );
    expect(await readFile(stranger, 'utf8')).toBe(`[git.example.com]:2222 ${otherPub}\n`); // nothing added

    // A key the server does not know.
    const wrong = await fails(newSource({ keyFile: sshd.otherKey }).source);
    expect(wrong).toBe(
      `fetching ${sshd.url('stacks.git')} failed: ${sshd.user}@${where} refused the key in source.auth.sshKeyFile (${sshd.otherKey}): add its public key (ssh-keygen -y -f ${sshd.otherKey}) to the repository as a deploy key with read access, and check the user in source.url`,
    );
    // A key file that went away (a credential not passed): said before connecting.
    expect(await fails(newSource({ keyFile: join(root, 'no-such-key') }).source)).toMatch(
      /failed: cannot read source\.auth\.sshKeyFile .*no-such-key \(ENOENT\)/,
    );
    expect(await fails(newSource({ branch: 'prod' }).source)).toBe(
      `branch \`prod\` not found on ${sshd.url('stacks.git')}`,
    );
    expect(await fails(newSource({ url: sshd.url('nothere.git') }).source)).toMatch(
      /has no repository at .*nothere\.git that this key may read/,
    );
    const refused = await fails(newSource({ url: `ssh://git@127.0.0.1:1/stacks.git` }).source);
    expect(refused).toMatch(/connecting to 127\.0\.0\.1 port 1 was refused/);

    // The same source, failing now: its last good snapshot stays.
    const failing = createGitSource({
      url: sshd.url('stacks.git'),
      dataDir: join(root, 'data-keep'),
      ssh: { keyFile: sshd.clientKey, knownHostsFile: sshd.knownHosts },
    });
    const kept = await failing.refresh();
    expect(kept.revision).toBe(good.revision);
    const broken = createGitSource({
      url: sshd.url('stacks.git'),
      dataDir: join(root, 'data-keep'),
      ssh: { keyFile: sshd.otherKey, knownHostsFile: sshd.knownHosts },
    });
    expect((await broken.loadCached())?.revision).toBe(kept.revision);
    await repo.commit({ 'apps/web/.env': 'A=3\n' }, 'not seen');
    await expect(broken.refresh()).rejects.toThrow(/refused the key/);
    expect(broken.current()?.revision).toBe(kept.revision);
    for (const message of [wrong, refused]) expect(message).not.toContain(keyText.split('\n')[1] ?? '');
  });

  it('puts neither the key nor its path in any argv, and gives git and ssh none of stackd’s secrets', async () => {
    const { source } = newSource();
    const secret = `api-token-${randomBytes(8).toString('hex')}`;
    process.env['STACKD_API_TOKEN'] = secret;
    // Long enough for the sampler to see ssh on a loaded machine (1 s was missed once in CI, with
    // four jest workers and the engine busy).
    await sshd.hold(3);
    const seen = new Map<number, string>();
    const environs = new Map<number, Record<string, string>>();
    const state = { done: false };
    const fetching = source.refresh().finally(() => {
      state.done = true;
    });
    try {
      while (!state.done) {
        for (const { pid, argv } of await processTable()) {
          if (seen.has(pid)) continue;
          seen.set(pid, argv);
          if (/\bssh\b.*-p \d+/.test(argv) || argv.includes(' fetch '))
            environs.set(pid, await environOf(pid));
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await fetching;
    } finally {
      await sshd.release();
      delete process.env['STACKD_API_TOKEN'];
    }
    const all = [...seen.values()];
    const ssh = all.find((argv) => argv.startsWith('/usr/bin/ssh ') && argv.includes(`-p ${sshd.port}`));
    // This fetch's own (another test file may be fetching over SSH at the same time).
    const gitFetch = all.find(
      (argv) => /git .*fetch .*-- ssh:\/\//.test(argv) && argv.includes(sshd.url('stacks.git')),
    );
    // The sampling saw the fetch running: the checks below are not vacuous.
    expect(ssh).toContain('-oIdentityFile=${STACKD_SOURCE_SSH_KEY_FILE}');
    expect(gitFetch).toContain(sshd.url('stacks.git'));
    const keyLines = keyText.split('\n').filter((line) => line.length > 20 && !line.startsWith('-----'));
    expect(keyLines.length).toBeGreaterThan(0);
    for (const argv of all) {
      expect(argv).not.toContain(sshd.clientKey);
      expect(argv).not.toContain(sshd.knownHosts);
      for (const line of keyLines) expect(argv).not.toContain(line);
    }
    // Where the path is: the environment of ssh (not its argv). stackd's own secrets are not.
    const sshPid = [...seen].find(([, argv]) => argv === ssh)?.[0];
    const sshEnv = environs.get(sshPid ?? -1) ?? {};
    expect(sshEnv['STACKD_SOURCE_SSH_KEY_FILE']).toBe(sshd.clientKey);
    for (const env of environs.values()) expect(Object.values(env)).not.toContain(secret);
    expect(Object.keys(sshEnv).sort()).not.toContain('STACKD_API_TOKEN');
  });

  it('a fetch over its timeout is killed whole (git, ssh) and keeps the last good snapshot', async () => {
    // 5 s: the first clone must fit in it on a loaded CI machine (1.5 s did not, once).
    const { source } = newSource({ timeoutMs: 5000 });
    const good = await source.refresh();
    await repo.commit({ 'apps/web/.env': 'A=4\n' }, 'too slow');
    await sshd.hold(30);
    try {
      const started = Date.now();
      await expect(source.refresh()).rejects.toThrow(
        `fetching ${sshd.url('stacks.git')} failed: timed out after 5000 ms`,
      );
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(source.current()).toBe(good);
      // Nothing of the fetch is left running on this side.
      expect(await processesMentioning(`-p ${sshd.port} `)).toEqual([]);
      expect(await processesMentioning(`-- ${sshd.url('stacks.git')}`)).toEqual([]);
    } finally {
      await sshd.release();
    }
  });

  it('refuses a changed host key (the server got a new one) with a clear error', async () => {
    const { source } = newSource();
    const good = await source.refresh();
    await sshd.rotateHostKey();
    try {
      await expect(source.refresh()).rejects.toThrow(
        `fetching ${sshd.url('stacks.git')} failed: the SSH host key of ${sshd.host}:${sshd.port} does not match the one for it in source.auth.knownHostsFile (${sshd.knownHosts}); refused.`,
      );
      expect(source.current()).toBe(good);
    } finally {
      // Trust the new key again for anything after this test.
      const { stdout } = await run('ssh-keyscan', ['-p', String(sshd.port), sshd.host]);
      await writeFile(sshd.knownHosts, stdout);
    }
  });
});

describe('git source over SSH, scp-like user@host:path (port 22 of a loopback address of its own)', () => {
  let root: string;
  let sshd: Sshd;
  let repo: TestRepo;

  beforeAll(async () => {
    root = await makeTempDir('stackd-ssh22-');
    repo = await createTestRepo(join(root, 'repos'), 'stacks');
    const host = `127.${1 + (process.pid % 200)}.${randomBytes(1)[0] ?? 7}.${2 + ((randomBytes(1)[0] ?? 0) % 250)}`;
    sshd = await startSshd({ root: join(root, 'sshd'), repos: join(root, 'repos'), host, port: 22 });
  });
  afterAll(async () => {
    await sshd.close();
    await removeDir(root);
  });

  it('clones through git@host:path, the path relative to the login directory', async () => {
    const head = await repo.commit({ 'web/compose.yaml': WEB });
    const source = createGitSource({
      url: sshd.scpUrl('stacks.git'),
      dataDir: join(root, 'data'),
      ssh: { keyFile: sshd.clientKey, knownHostsFile: sshd.knownHosts },
    });
    expect(source.location).toBe(sshd.scpUrl('stacks.git'));
    const snapshot = await source.refresh();
    expect(snapshot.revision).toBe(head);
    expect([...snapshot.stacks.keys()]).toEqual(['web']);
    expect((await sshd.calls()).map((c) => c.command)).toEqual(["git-upload-pack 'stacks.git'"]);
  });
});
