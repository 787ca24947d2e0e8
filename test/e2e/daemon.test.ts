/**
 * Issue 5, end to end against the built binary, the real engine and a real Git server: readiness,
 * webhooks (signed, bad, other branch, floods), polling, failures in the API, pause and resume,
 * metrics, SIGTERM during a reconcile, and loopback-only control without a token.
 */
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { METRIC_NAMES } from '../../internal/metrics/index.js';
import { STACK_STATUSES } from '../../internal/status/index.js';
import { type Daemon, githubPush, startDaemon, waitForStack } from '../helpers/daemon.js';
import { waitFor } from '../helpers/docker.js';
import { Harness, composeFile } from '../helpers/stackd.js';

const SECRET = 'webhook-secret-for-tests';

/** A service that takes ~2 s to become healthy: long enough to see `syncing`. */
const slow = (image: 1 | 2): string =>
  `services:\n  s:\n    image: stackd-test/busybox:${image}\n    command: ["sh", "-c", "sleep 2; touch /tmp/ready; exec sleep 3600"]\n    stop_grace_period: 1s\n    healthcheck:\n      test: ["CMD", "sh", "-c", "test -f /tmp/ready"]\n      interval: 500ms\n      retries: 20\n`;

describe('stackd run', () => {
  let h: Harness;
  let d: Daemon;

  beforeAll(async () => {
    h = await Harness.create('daemon');
    await h.commit({ 'web/compose.yaml': composeFile({ a: {}, b: {} }), 'slow/compose.yaml': slow(1) });
    d = await startDaemon(h, { STACKD_WEBHOOK_SECRET: SECRET, STACKD_SOURCE_POLL_INTERVAL: '0' });
  });

  afterAll(async () => {
    await d.stop().catch(() => undefined);
    await h.cleanup();
  });

  it('turns ready and lists the stacks synced', async () => {
    await waitFor('readyz 200', async () => (await d.get('/readyz')).status === 200, 30_000);
    await waitForStack(d, h.id('web'), 'synced', (s) => s.status === 'synced');
    await waitForStack(d, h.id('slow'), 'synced', (s) => s.status === 'synced');
    const all = await d.stacks();
    expect(all.stacks.map((s) => s.id).sort()).toEqual([h.id('slow'), h.id('web')]);
    expect(all.revision).toBe(await h.repo.head());
  });

  it('`stackd status` prints the table and JSON; `stackd refresh` asks for a fetch', async () => {
    const table = await h.cli(['status', '--server', d.url]);
    expect(table.exitCode).toBe(0);
    expect(table.stdout).toMatch(/STACK\s+STATUS\s+SYNCED\s+LAST RESULT\s+AGE\s+MESSAGE/);
    expect(table.stdout).toMatch(new RegExp(`${h.id('web')}\\s+synced`));
    const json = await h.cli(['status', '--server', d.url, '--output', 'json']);
    expect(JSON.parse(json.stdout)).toEqual(await d.stacks());
    const before = await d.metric('stackd_source_fetch_total');
    const refresh = await h.cli(['refresh', '--server', d.url]);
    expect(refresh.exitCode).toBe(0);
    await waitFor('a fetch', async () => (await d.metric('stackd_source_fetch_total')) > before, 10_000);
    const nobody = await h.cli(['status', '--server', 'http://127.0.0.1:9']);
    expect(nobody.exitCode).toBe(4);
    expect(nobody.stderr).toContain('cannot reach stackd at http://127.0.0.1:9');
  });

  it('a commit plus a signed GitHub webhook: `syncing` is visible, then `synced` at the new revision', async () => {
    const rev = await h.commit({ 'slow/compose.yaml': slow(2) });
    const answer = await githubPush(d.url, SECRET, 'refs/heads/main');
    expect(answer.status).toBe(202);
    await waitForStack(d, h.id('slow'), 'syncing', (s) => s.status === 'syncing', 20_000);
    const done = await waitForStack(
      d,
      h.id('slow'),
      'synced at the new revision',
      (s) => s.status === 'synced' && s.synced?.revision === rev,
    );
    expect(done.desired?.revision).toBe(rev);
    const web = await d.stack(h.id('web'));
    expect(web).toMatchObject({ status: 'synced', synced: { revision: rev } });
  });

  it('a bad signature is refused and fetches nothing; another branch is ignored; a flood coalesces', async () => {
    const before = await d.metric('stackd_source_fetch_total');
    const bad = await githubPush(d.url, SECRET, 'refs/heads/main', { badSignature: true });
    expect(bad.status).toBe(401);
    const other = await githubPush(d.url, SECRET, 'refs/heads/feature');
    expect(other.status).toBe(202);
    expect(await other.json()).toMatchObject({ ignored: true });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await d.metric('stackd_source_fetch_total')).toBe(before);
    expect(d.logs.some((l) => l['event'] === 'webhook.rejected')).toBe(true);

    const floodStart = performance.now();
    const answers = await Promise.all(
      Array.from({ length: 200 }, () => githubPush(d.url, SECRET, 'refs/heads/main')),
    );
    const floodSeconds = (performance.now() - floodStart) / 1000;
    expect(answers.every((a) => a.status === 202)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const fetches = (await d.metric('stackd_source_fetch_total')) - before;
    expect(fetches).toBeGreaterThanOrEqual(1);
    // Fetches start at least a second apart: one at once, then one per second of flood. A flood
    // answered within two seconds (the usual case here: ~0.3 s) costs at most 3 fetches.
    expect(fetches).toBeLessThanOrEqual(Math.max(3, Math.ceil(floodSeconds) + 1));
  });

  it('a push naming the revision already held fetches nothing', async () => {
    await waitFor(
      'the desired state at HEAD',
      async () => (await d.stacks()).revision === (await h.repo.head()),
    );
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const before = await d.metric('stackd_source_fetch_total');
    const head = await h.repo.head();
    const same = await githubPush(d.url, SECRET, 'refs/heads/main', { after: head });
    expect(same.status).toBe(202);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await d.metric('stackd_source_fetch_total')).toBe(before);
    const rev = await h.commit({ 'notes.txt': 'a commit that changes no stack\n' });
    await githubPush(d.url, SECRET, 'refs/heads/main', { after: rev });
    await waitForStack(
      d,
      h.id('web'),
      'synced at the new revision',
      (s) => s.status === 'synced' && s.synced?.revision === rev,
    );
    expect(await d.metric('stackd_source_fetch_total')).toBeGreaterThan(before);
  });

  it('a failing stack shows `failed` with its message within 10 s', async () => {
    await h.commit({
      'broken/compose.yaml':
        'services:\n  x:\n    image: stackd-test/busybox:1\n    command: ["sh", "-c", "exit 7"]\n',
    });
    await githubPush(d.url, SECRET, 'refs/heads/main');
    const failed = await waitForStack(d, h.id('broken'), 'failed', (s) => s.status === 'failed', 10_000);
    expect(failed.message).toContain('exited with code 7');
    await h.commit({ 'broken/compose.yaml': null });
    await githubPush(d.url, SECRET, 'refs/heads/main');
  });

  it('paused (`stackd pause`): a commit is fetched and shown out_of_sync, nothing changes; resumed, it converges', async () => {
    const pause = await h.cli(['pause', '--server', d.url]);
    expect(pause.exitCode).toBe(0);
    const ids = await h.ids('web');
    const rev = await h.commit({ 'web/compose.yaml': composeFile({ a: { image: 2 }, b: {} }) });
    await githubPush(d.url, SECRET, 'refs/heads/main');
    const held = await waitForStack(
      d,
      h.id('web'),
      'out_of_sync',
      (s) => s.status === 'out_of_sync' && s.desired?.revision === rev,
    );
    expect(held.message).toContain('reconciliation disabled');
    expect((await d.stacks()).reconcileEnabled).toBe(false);
    expect(await h.ids('web')).toEqual(ids);

    const resume = await h.cli(['resume', '--server', d.url]);
    expect(resume.exitCode).toBe(0);
    await waitForStack(
      d,
      h.id('web'),
      'synced again',
      (s) => s.status === 'synced' && s.synced?.revision === rev,
    );
    const after = await h.ids('web');
    expect(after['a']).not.toBe(ids['a']);
    expect(after['b']).toBe(ids['b']);
  });

  it('prune off: a stack deleted from Git stays; `stackd sync ID --prune` removes it this once', async () => {
    await h.commit({ 'temp/compose.yaml': composeFile({ t: {} }) });
    await githubPush(d.url, SECRET, 'refs/heads/main');
    await waitForStack(d, h.id('temp'), 'synced', (s) => s.status === 'synced');
    await h.commit({ 'temp/compose.yaml': null });
    await githubPush(d.url, SECRET, 'refs/heads/main');
    const kept = await waitForStack(d, h.id('temp'), 'kept', (s) => s.status === 'out_of_sync');
    expect(kept.message).toContain('removal is disabled (reconcile.prune=false)');
    expect(await h.containers('temp')).toHaveLength(1);
    const sync = await h.cli(['sync', h.id('temp'), '--prune', '--server', d.url]);
    expect(sync.exitCode).toBe(0);
    await waitFor('temp removed', async () => (await h.containers('temp')).length === 0, 30_000);
    await waitForStack(d, h.id('temp'), 'missing', (s) => s.status === 'missing');
    expect(await h.ids('web')).not.toEqual({}); // nothing else was touched
  });

  it('/metrics carries stackd_stack_status (1 on the current status) and every DESIGN.md name', async () => {
    const text = await (await d.get('/metrics')).text();
    for (const status of STACK_STATUSES) {
      const expected = status === 'synced' ? 1 : 0;
      expect(text).toContain(`stackd_stack_status{stack="${h.id('web')}",status="${status}"} ${expected}`);
    }
    for (const name of METRIC_NAMES) expect(text).toContain(name);
    expect(await d.metric('stackd_runtime_up')).toBe(1);
    expect(
      await d.metric('stackd_reconcile_total', { stack: h.id('web'), result: 'success' }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('without a token, a mutating request from a non-loopback address is refused', async () => {
    const address = Object.values(networkInterfaces())
      .flat()
      .find((i) => i !== undefined && i.family === 'IPv4' && !i.internal)?.address;
    if (address === undefined) throw new Error('this test needs a non-loopback IPv4 address on the machine');
    const open = await startDaemon(h, {
      STACKD_LISTEN: '0.0.0.0:0',
      STACKD_DATA_DIR: `${h.dataDir}-open`,
      STACKD_RECONCILE_ENABLED: 'false',
    });
    try {
      const port = new URL(open.url).port;
      const remote = await fetch(`http://${address}:${port}/api/v1/refresh`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
      });
      expect(remote.status).toBe(403);
      const local = await fetch(`http://127.0.0.1:${port}/api/v1/refresh`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
      });
      expect(local.status).toBe(202);
      const read = await fetch(`http://${address}:${port}/api/v1/stacks`);
      expect(read.status).toBe(200);
    } finally {
      await open.stop();
    }
  });

  it('SIGTERM during a reconcile exits cleanly; after a restart statuses are true and the stack converges', async () => {
    const rev = await h.commit({ 'slow/compose.yaml': slow(1) });
    await githubPush(d.url, SECRET, 'refs/heads/main');
    await waitForStack(d, h.id('slow'), 'syncing', (s) => s.status === 'syncing', 20_000);
    const code = await d.stop('SIGTERM');
    if (code !== 0) {
      const last = d.logs.slice(-10).map((l) => JSON.stringify(l));
      throw new Error(`stackd exited ${String(code)} after SIGTERM; last log lines:\n${last.join('\n')}`);
    }
    expect(d.logs.some((l) => l['event'] === 'daemon.stopped')).toBe(true);

    d = await startDaemon(h, { STACKD_WEBHOOK_SECRET: SECRET, STACKD_SOURCE_POLL_INTERVAL: '0' });
    const first = await d.stack(h.id('slow'));
    expect(first?.status).not.toBe('syncing');
    await waitForStack(
      d,
      h.id('slow'),
      'synced after restart',
      (s) => s.status === 'synced' && s.synced?.revision === rev,
    );
    await waitForStack(
      d,
      h.id('web'),
      'synced after restart',
      (s) => s.status === 'synced' && s.synced?.revision === rev,
    );
  });
});

describe('stackd run with polling', () => {
  it('picks up a commit without any webhook', async () => {
    const h = await Harness.create('poll');
    try {
      await h.commit({ 'p/compose.yaml': composeFile({ x: {} }) });
      const d = await startDaemon(h, { STACKD_SOURCE_POLL_INTERVAL: '1s' });
      try {
        await waitForStack(d, h.id('p'), 'synced', (s) => s.status === 'synced');
        const rev = await h.commit({ 'p/compose.yaml': composeFile({ x: { image: 2 } }) });
        await waitForStack(
          d,
          h.id('p'),
          'synced at the polled revision',
          (s) => s.status === 'synced' && s.synced?.revision === rev,
        );
      } finally {
        await d.stop();
      }
    } finally {
      await h.cleanup();
    }
  });
});
