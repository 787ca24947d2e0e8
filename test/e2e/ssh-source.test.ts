/**
 * An SSH source end to end: the built CLI's `stackd sync --once` against a real sshd on loopback
 * (test/helpers/sshd.ts: git-shell, an ed25519 deploy key, known_hosts from ssh-keyscan) and
 * the real engine. A stack deploys from the SSH remote; an unchanged pass costs one SSH
 * connection and no pack; a new commit updates the stack; a wrong key makes the pass exit 3
 * with the source error while the stack stays as deployed; a missing setting or key file is
 * refused at start (exit 2) naming the key; a daemon's fetch metrics count SSH fetches.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startDaemon } from '../helpers/daemon.js';
import { waitFor } from '../helpers/docker.js';
import { startSshd, type Sshd } from '../helpers/sshd.js';
import { Harness, composeFile, stackOf } from '../helpers/stackd.js';

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe('stackd sync --once from an SSH remote', () => {
  let h: Harness;
  let sshd: Sshd;
  let keyLine: string;

  beforeAll(async () => {
    h = await Harness.create('sshsrc');
    // The harness's bare repository (<root>/stacks.git), served over SSH instead of http.
    sshd = await startSshd({ root: join(h.root, 'sshd'), repos: h.root });
    h.env = {
      ...h.env,
      STACKD_SOURCE_URL: sshd.url('stacks.git'),
      STACKD_SOURCE_SSH_KEY_FILE: sshd.clientKey,
      STACKD_SOURCE_KNOWN_HOSTS_FILE: sshd.knownHosts,
      STACKD_SOURCE_POLL_INTERVAL: '0',
    };
    keyLine = (await readFile(sshd.clientKey, 'utf8')).split('\n')[1] ?? '';
  });
  afterAll(async () => {
    await sshd.close();
    await h.cleanup();
  });

  it('deploys, does nothing over one connection when unchanged, updates on a new commit', async () => {
    const first = await h.commit({ 'web/compose.yaml': composeFile({ a: {} }) });
    await sshd.resetCalls();
    const one = await h.sync();
    expect(one.exitCode).toBe(0);
    expect(one.response.revision).toBe(first);
    expect(one.response.source).toMatchObject({ url: sshd.url('stacks.git'), lastError: null });
    expect(stackOf(one.response, h.id('web'))).toMatchObject({
      status: 'synced',
      desired: { revision: first },
    });
    const [container] = await h.containers('web');
    expect(container?.State).toBe('running');
    expect(await sshd.calls()).toHaveLength(1);

    await sshd.resetCalls();
    const same = await h.sync();
    expect(same.exitCode).toBe(0);
    expect(stackOf(same.response, h.id('web')).status).toBe('synced');
    const unchanged = await sshd.calls();
    expect(unchanged).toHaveLength(1);
    expect(unchanged[0]?.bytesOut).toBeLessThan(2000); // the ref advertisement, no pack
    expect((await h.containers('web'))[0]?.Id).toBe(container?.Id);

    const second = await h.commit({ 'web/compose.yaml': composeFile({ a: { image: 2 } }) });
    const two = await h.sync();
    expect(two.exitCode).toBe(0);
    expect(stackOf(two.response, h.id('web'))).toMatchObject({
      status: 'synced',
      synced: { revision: second },
    });
    const [updated] = await h.containers('web');
    expect(updated?.Image).toBe('stackd-test/busybox:2');
    // The remote was never configured, and no file of dataDir holds the key or its path.
    expect(await readFile(join(h.dataDir, 'repo', 'config'), 'utf8')).not.toMatch(/ssh|url/i);
    for (const file of await filesUnder(h.dataDir)) {
      const text = await readFile(file, 'latin1');
      expect([file, text.includes(keyLine) || text.includes(sshd.clientKey)]).toEqual([file, false]);
    }
  });

  it('a refused key: exit 3 with the source error, the stack left as deployed', async () => {
    const before = await h.ids('web');
    await h.commit({ 'web/compose.yaml': composeFile({ a: {}, b: {} }) });
    const r = await h.sync({ STACKD_SOURCE_SSH_KEY_FILE: sshd.otherKey });
    expect(r.exitCode).toBe(3);
    expect(r.response.source.lastError).toContain(
      `refused the key in source.auth.sshKeyFile (${sshd.otherKey})`,
    );
    expect(r.stderr).toContain('refused the key');
    expect(stackOf(r.response, h.id('web')).status).toBe('synced');
    expect(await h.ids('web')).toEqual(before);
    for (const text of [r.stderr, JSON.stringify(r.response)]) expect(text).not.toContain(keyLine);
  });

  it('refuses to start without the known_hosts file or with an unreadable key (exit 2, naming the key)', async () => {
    const noHosts = await h.cli(['sync', '--once'], { STACKD_SOURCE_KNOWN_HOSTS_FILE: '' });
    expect(noHosts.exitCode).toBe(2);
    expect(noHosts.stderr).toContain(
      'source.auth.knownHostsFile (STACKD_SOURCE_KNOWN_HOSTS_FILE): required for the SSH source',
    );
    const noKey = await h.cli(['sync', '--once'], { STACKD_SOURCE_SSH_KEY_FILE: join(h.root, 'missing') });
    expect(noKey.exitCode).toBe(2);
    expect(noKey.stderr).toMatch(
      /source\.auth\.sshKeyFile \(STACKD_SOURCE_SSH_KEY_FILE\): cannot read .*missing \(ENOENT\)/,
    );
  });

  it('the daemon counts SSH fetches in stackd_source_fetch_total and shows the URL with its user', async () => {
    const d = await startDaemon(h);
    try {
      const metric = await waitFor('a fetch counted', async () => {
        const text = await (await d.get('/metrics')).text();
        return /^stackd_source_fetch_total\{result="success"\} [1-9]/m.test(text) ? text : undefined;
      });
      expect(metric).toMatch(/^stackd_source_fetch_duration_seconds_count [1-9]/m);
      const { source } = await d.stacks();
      expect(source.url).toBe(sshd.url('stacks.git'));
      expect(source.url).toMatch(/^ssh:\/\/\w+@127\.0\.0\.1:\d+\//);
    } finally {
      await d.stop();
    }
  });
});
