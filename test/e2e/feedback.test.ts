/**
 * Issue 15 end to end: the built daemon, the real engine, a real Git server, and real HTTP
 * receivers standing in for the notification targets (stackd's JSON webhook, an ntfy topic that
 * answers 500 once, a Discord webhook that never answers) and for GitHub's commit status API
 * (test/helpers/receiver.ts's fake, strict about path, auth and body as GitHub documents them).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { verifyWebhookSignature } from '../../internal/feedback/notify/index.js';
import type { Notification } from '../../internal/feedback/types.js';
import type { StackDetail } from '../../internal/status/index.js';
import { type Daemon, githubPush, startDaemon, waitForStack } from '../helpers/daemon.js';
import { docker, waitFor } from '../helpers/docker.js';
import { type Receiver, type Received, scmRoutes, startReceiver } from '../helpers/receiver.js';
import { Harness, composeFile } from '../helpers/stackd.js';

const HOOK_SECRET = 'webhook-secret-feedback-0123456789';
const NOTIFY_HMAC = 'notify-hmac-key-0123456789abcdef';
const NTFY_TOKEN = 'tk_ntfytoken0123456789abcdef';
const DISCORD_PATH = '/api/webhooks/1234/discord-url-token-0123456789';
const SCM_TOKEN = 'ghp_scmtoken0123456789abcdefABCDEF';
const REPOSITORY = 'acme/stacks';
const BATCH = 3;

const broken = [
  'services:',
  '  s:',
  '    image: stackd-test/busybox:1',
  '    command: ["sh", "-c", "exit 1"]',
  '    stop_grace_period: 1s',
  '',
].join('\n');
const sound = composeFile({ s: {} });
/** Exits 1 on SIGTERM: `docker stop` leaves it `exited (1)`, the drift the issue names. */
const web = (conf: string): Record<string, string> => ({
  'web/compose.yaml': [
    'services:',
    '  web:',
    '    image: stackd-test/busybox:1',
    `    command: ["sh", "-c", "trap 'exit 1' TERM; while true; do sleep 0.2; done"]`,
    '    stop_grace_period: 5s',
    '    volumes: ["./conf/site.conf:/site.conf:ro"]',
    '',
  ].join('\n'),
  'web/conf/site.conf': conf,
});

const events = (r: Receiver): Notification[] =>
  r.requests.map((q) => q.json() as Notification).filter((n) => typeof n.event === 'string');
const statusesOn = (r: Receiver, sha: string): { context: string; state: string; description: string }[] =>
  r.requests
    .filter((q) => q.path === `/repos/${REPOSITORY}/statuses/${sha}`)
    .map((q) => q.json() as { context: string; state: string; description: string });

describe('feedback: notifications without spam, commit statuses, and why', () => {
  let h: Harness;
  let d: Daemon;
  let hook: Receiver;
  let ntfy: Receiver;
  let discord: Receiver;
  let github: Receiver;
  let r1 = '';
  let r2 = '';
  let r3 = '';
  const ctx = (name: string): string => `stackd/${h.instance}/${h.id(name)}`;
  const failures = (id: string): number =>
    d.logs.filter((l) => l['event'] === 'reconcile.failure' && l['stack'] === id).length;

  beforeAll(async () => {
    h = await Harness.create('feedback');
    [hook, ntfy, discord, github] = await Promise.all([
      startReceiver(),
      startReceiver(),
      startReceiver(),
      startReceiver(),
    ]);
    let ntfyCalls = 0;
    ntfy.respond(() => (++ntfyCalls === 1 ? { status: 500, body: 'busy' } : { status: 200, body: '{}' }));
    discord.respond(() => 'hang');
    github.respond(scmRoutes('github', { token: SCM_TOKEN, repository: REPOSITORY }));
    const files = join(h.root, 'secrets');
    await mkdir(files, { recursive: true });
    await writeFile(join(files, 'hmac'), `${NOTIFY_HMAC}\n`);
    await writeFile(join(files, 'ntfy'), `${NTFY_TOKEN}\n`);
    await writeFile(join(files, 'discord-url'), `${discord.url}${DISCORD_PATH}\n`);
    await writeFile(join(files, 'scm'), `${SCM_TOKEN}\n`);
    r1 = await h.commit({
      'a/compose.yaml': sound,
      'b/compose.yaml': sound,
      'c/compose.yaml': sound,
      'd/compose.yaml': sound,
      ...web('server { listen 80; }\n'),
    });
    d = await startDaemon(h, {
      STACKD_WEBHOOK_SECRET: HOOK_SECRET,
      STACKD_SOURCE_POLL_INTERVAL: '0',
      STACKD_NOTIFY_BATCH_WINDOW: `${BATCH}s`,
      STACKD_NOTIFY_TARGETS: JSON.stringify([
        { name: 'ops', type: 'webhook', url: `${hook.url}/stackd`, secretFile: join(files, 'hmac') },
        { name: 'phone', type: 'ntfy', url: `${ntfy.url}/stackd-alerts`, secretFile: join(files, 'ntfy') },
        { name: 'chat', type: 'discord', urlFile: join(files, 'discord-url') },
      ]),
      STACKD_SCM_COMMIT_STATUS: 'github',
      STACKD_SCM_URL: github.url,
      STACKD_SCM_REPOSITORY: REPOSITORY,
      STACKD_SCM_TOKEN_FILE: join(files, 'scm'),
    });
  }, 60_000);

  afterAll(async () => {
    await d.stop().catch(() => undefined);
    await Promise.all([hook, ntfy, discord, github].map((r) => r.close()));
    await h.cleanup();
  });

  it('a first deploy: pending then success on the commit for each stack, no notification', async () => {
    for (const name of ['a', 'b', 'c', 'd', 'web'])
      await waitForStack(d, h.id(name), 'synced', (s) => s.status === 'synced', 90_000);
    await github.waitFor((all) => all.filter((q) => q.path.endsWith(r1)).length >= 10, 15_000);
    const on = statusesOn(github, r1);
    for (const name of ['a', 'b', 'c', 'd', 'web'])
      expect(on.filter((s) => s.context === ctx(name)).map((s) => s.state)).toEqual(['pending', 'success']);
    // Every answer was the fake's 201: path, token and body as GitHub's API has them.
    expect(await d.metric('stackd_commit_statuses_total', { result: 'sent' })).toBe(10);
    expect(hook.requests).toEqual([]);
  });

  it('one bad commit breaking 3 stacks: one `failed` notification listing the 3, with reasons; statuses only on them', async () => {
    r2 = await h.commit({ 'a/compose.yaml': broken, 'b/compose.yaml': broken, 'c/compose.yaml': broken });
    await githubPush(d.url, HOOK_SECRET, 'refs/heads/main');
    const [first] = await hook.waitFor((all) => all.length >= 1, 90_000);
    const n = JSON.parse(first?.body ?? '{}') as Notification;
    expect(n).toMatchObject({ event: 'failed', instance: h.instance });
    expect(n.stacks.map((s) => s.id).sort()).toEqual([h.id('a'), h.id('b'), h.id('c')]);
    for (const s of n.stacks) {
      expect(s.message).toMatch(/^service s exited with code 1/);
      expect(s.revision).toBe(r2);
      expect(s.changes).toEqual([{ service: 's', change: 'recreate', why: 'definition' }]);
    }
    // Signed with the target's key (X-Stackd-Signature-256 over the exact body).
    expect(
      verifyWebhookSignature(NOTIFY_HMAC, first?.body ?? '', first?.headers['x-stackd-signature-256']),
    ).toBe(true);
    await github.waitFor((all) => all.filter((q) => q.path.endsWith(r2)).length >= 6, 15_000);
    const on = statusesOn(github, r2);
    for (const name of ['a', 'b', 'c']) {
      const mine = on.filter((s) => s.context === ctx(name));
      expect(mine.map((s) => s.state)).toEqual(['pending', 'failure']);
      expect(mine[1]?.description).toMatch(/^service s exited with code 1/);
      expect(mine[1]?.description.length).toBeLessThanOrEqual(140);
    }
    expect(on.filter((s) => s.context === ctx('d') || s.context === ctx('web'))).toEqual([]);
  });

  it('the ntfy target answering 500 then 200 got it once, after one retry', async () => {
    await ntfy.waitFor((all) => all.length >= 2, 20_000);
    expect(ntfy.requests.map((q) => q.headers['authorization'])).toEqual([
      `Bearer ${NTFY_TOKEN}`,
      `Bearer ${NTFY_TOKEN}`,
    ]);
    expect(ntfy.requests[1]?.body).toContain(h.id('a'));
    await waitFor('the delivery counted', async () =>
      (await d.metric('stackd_notifications_total', { target: 'phone', result: 'sent' })) === 1
        ? true
        : undefined,
    );
  });

  it('the same failure retried 10 times (manual syncs): no further notification; the hanging target changes nothing', async () => {
    // The Discord target holds its first request open; reconciles go on regardless.
    await discord.waitFor((all) => all.length >= 1, 20_000);
    const id = h.id('a');
    const before = failures(id);
    for (let i = 1; i <= 10; i++) {
      const r = await fetch(`${d.url}/api/v1/stacks/${encodeURIComponent(id)}/sync`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
      });
      expect(r.status).toBe(202);
      await waitFor(
        `retry ${i} of ${id}`,
        () => Promise.resolve(failures(id) >= before + i ? true : undefined),
        60_000,
      );
    }
    const retries = d.logs
      .filter((l) => l['event'] === 'reconcile.failure' && l['stack'] === id)
      .slice(-10)
      .map((l) => Number(l['durationMs']));
    const first = d.logs
      .filter(
        (l) =>
          l['event'] === 'reconcile.success' &&
          [h.id('a'), h.id('b'), h.id('c')].includes(String(l['stack'])),
      )
      .map((l) => Number(l['durationMs']));
    process.stdout.write(
      `feedback: apply ms before any notification ${first.join(', ')}; the 10 retries while a target hangs ${retries.join(', ')}\n`,
    );
    // A reconcile waiting on that target would take its whole 10 s delivery timeout.
    for (const ms of retries) expect(ms).toBeLessThan(10_000);
    // Two batch windows more: still the one `failed`.
    await new Promise((resolve) => setTimeout(resolve, 2 * BATCH * 1000 + 500));
    expect(events(hook).map((n) => n.event)).toEqual(['failed']);
  }, 240_000);

  it('the fix (and a bind-mounted file change): one `recovered`; success statuses; the history names the file', async () => {
    r3 = await h.commit({
      'a/compose.yaml': sound,
      'b/compose.yaml': sound,
      'c/compose.yaml': sound,
      ...web('server { listen 8080; }\n'),
    });
    await githubPush(d.url, HOOK_SECRET, 'refs/heads/main');
    await hook.waitFor((all) => all.length >= 2, 90_000);
    const recovered = events(hook)[1];
    expect(recovered?.event).toBe('recovered');
    expect(recovered?.stacks.map((s) => s.id).sort()).toEqual([h.id('a'), h.id('b'), h.id('c')]);
    expect(recovered?.stacks.every((s) => s.revision === r3)).toBe(true);

    const detail = (await (
      await d.get(`/api/v1/stacks/${encodeURIComponent(h.id('web'))}`)
    ).json()) as StackDetail;
    expect(detail.history[0]).toMatchObject({
      revision: r3,
      outcome: 'success',
      changes: [{ service: 'web', change: 'recreate', why: 'file conf/site.conf' }],
    });
    const cli = await h.cli(['status', h.id('web'), '--server', d.url]);
    expect(cli.stdout).toContain('web: file conf/site.conf');

    await github.waitFor((all) => all.filter((q) => q.path.endsWith(r3)).length >= 8, 15_000);
    const on = statusesOn(github, r3);
    for (const name of ['a', 'b', 'c', 'web'])
      expect(on.filter((s) => s.context === ctx(name)).map((s) => s.state)).toEqual(['pending', 'success']);
    expect(on.filter((s) => s.context === ctx('d'))).toEqual([]);
  }, 120_000);

  it('a self-heal is recorded as `drift (exited 1)`, and posts no commit status', async () => {
    // Its apply at r3 (the file change) is done: the container stopped is the one that stays.
    await waitForStack(
      d,
      h.id('web'),
      'synced at r3',
      (s) => s.status === 'synced' && s.synced?.revision === r3,
    );
    const [container] = await h.containers('web');
    const posted = github.requests.length;
    await docker('stop', container?.Id ?? '');
    const healed = await waitFor(
      'the self-heal in the history',
      async () => {
        const s = (await (
          await d.get(`/api/v1/stacks/${encodeURIComponent(h.id('web'))}`)
        ).json()) as StackDetail;
        return s.status === 'synced' && s.history[0]?.changes?.[0]?.change === 'start' ? s : undefined;
      },
      60_000,
    );
    expect(healed.history[0]?.changes).toEqual([
      { service: 'web', change: 'start', why: 'drift (exited 1)' },
    ]);
    const cli = await h.cli(['status', h.id('web'), '--server', d.url]);
    expect(cli.stdout).toContain('web: drift (exited 1)');
    expect(github.requests.length).toBe(posted);
  }, 90_000);

  it('no secret in any log line nor in any request sent elsewhere', () => {
    const logs = JSON.stringify(d.logs);
    const sent = (rs: readonly Received[]): string => rs.map((q) => `${q.path} ${q.body}`).join('\n');
    for (const secret of [HOOK_SECRET, NOTIFY_HMAC, NTFY_TOKEN, DISCORD_PATH, SCM_TOKEN])
      expect(logs).not.toContain(secret);
    // Each target sees its own credential (in a header) and nobody else's, and no body holds one.
    for (const secret of [HOOK_SECRET, NOTIFY_HMAC, NTFY_TOKEN, SCM_TOKEN])
      for (const r of [hook, ntfy, discord, github]) expect(sent(r.requests)).not.toContain(secret);
    expect(JSON.stringify(hook.requests.map((q) => q.headers))).not.toContain(SCM_TOKEN);
    expect(JSON.stringify(github.requests.map((q) => q.headers))).not.toContain(NTFY_TOKEN);
  });
});
