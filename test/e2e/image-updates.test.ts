/**
 * Issue 14 — image updates, with real components: Debian's docker-registry on loopback (htpasswd
 * auth, the logins of registry.authFile), images made with `docker import`/`docker commit` and
 * pushed with `docker push`, the real engine and compose v2, `stackd run` (the built CLI).
 *
 * A stack with `app` on `REG/app:1` (x-stackd.update: digest) and `db` on `REG/db:1` (not
 * watched): a re-push of `app:1` is deployed after a registry webhook and, after a restart, by
 * polling — only `app` is recreated, `db` keeps its container; a `notify` service reports the
 * new digest in the API and metrics and is left alone; a new digest that fails readiness is
 * rolled back (the old image runs again, status `failed` naming the digest) and not pulled again
 * for two minutes; checks never pull (no engine pull events, no blob requests); with the registry
 * down the checks count as failed and the stacks stay as they were.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { IMAGE_V1, IMAGE_V2, RUN_ID, docker, engine, waitFor } from '../helpers/docker.js';
import { type Daemon, startDaemon } from '../helpers/daemon.js';
import { loginFile, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { Harness } from '../helpers/stackd.js';
import type { ServiceStatus, StackStatus } from '../../internal/status/index.js';
import { freePort } from '../helpers/ports.js';

const DIGEST_LABEL = 'io.stackd.image-digest';
const BAD_IMAGE = `stackd-test/busybox:bad-${RUN_ID}`;
const TOKEN = `registry-hook-${RUN_ID}-0123456789`;

/** The registry digest `ref` was pushed as (RepoDigests of the local image it names). */
async function pushedDigest(ref: string, image: string): Promise<string> {
  const digests = JSON.parse(await docker('image', 'inspect', '--format', '{{json .RepoDigests}}', image)) as
    string[] | null;
  const repo = ref.replace(/:[^:/]+$/, '');
  const found = (digests ?? []).find((d) => d.startsWith(`${repo}@`));
  if (found === undefined) throw new Error(`${image} has no digest of ${repo}: ${JSON.stringify(digests)}`);
  return found.slice(repo.length + 1);
}

/** Engine `pull` events of `ref` between two times (seconds). */
async function pullEvents(ref: string, since: number, until: number): Promise<number> {
  const stream = await engine.getEvents({
    since,
    until,
    filters: { type: ['image'], event: ['pull'] },
  });
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { id?: string })
    .filter((e) => e.id === ref || e.id?.startsWith(`${ref.replace(/:[^:/]+$/, '')}@`)).length;
}

const service = (name: string, image: string, extra = ''): string =>
  `  ${name}:\n    image: ${image}\n    command: ["sleep", "3600"]\n    stop_grace_period: 1s\n${extra}`;
const watched = (policy: string): string => `    x-stackd:\n      update: ${policy}\n`;

describe('image updates (x-stackd.update, images.pollInterval, registry webhook)', () => {
  let h: Harness;
  let registry: TestRegistry;
  let d: Daemon | undefined;
  let port: number;
  let app: string;
  let db: string;
  let note: string;
  let steady: string;
  let env: Record<string, string>;
  const digests: Record<string, string> = {};

  const svc = (s: StackStatus | undefined, name: string): ServiceStatus | undefined =>
    s?.services.find((x) => x.name === name);
  const labelOf = async (
    stack: string,
    name: string,
  ): Promise<{ id: string; digest: string | undefined }> => {
    const c = (await h.containers(stack)).find((x) => x.Labels['com.docker.compose.service'] === name);
    if (c === undefined) throw new Error(`no ${name} container in ${stack}`);
    return { id: c.Id, digest: c.Labels[DIGEST_LABEL] };
  };
  const events = (event: string): Record<string, unknown>[] =>
    (d?.logs ?? []).filter((l) => l['event'] === event);

  beforeAll(async () => {
    port = await freePort();
    registry = await startRegistry({
      accessLog: true,
      notifications: {
        url: `http://127.0.0.1:${port}/api/v1/webhook/registry`,
        headers: { Authorization: `Bearer ${TOKEN}` },
      },
    });
    app = await registry.push(IMAGE_V1, `stackd-${RUN_ID}/app:1`);
    db = await registry.push(IMAGE_V1, `stackd-${RUN_ID}/db:1`);
    note = await registry.push(IMAGE_V1, `stackd-${RUN_ID}/note:1`);
    steady = await registry.push(IMAGE_V1, `stackd-${RUN_ID}/steady:1`);
    // An image whose every command exits 1: the new digest that fails readiness.
    const created = (await docker('create', IMAGE_V1)).trim();
    await docker('commit', '--change', 'ENTRYPOINT ["false"]', created, BAD_IMAGE);
    await docker('rm', created);
    h = await Harness.create('images');
    const auth = join(h.root, 'registry-auth.json');
    await writeFile(auth, await loginFile(registry), { mode: 0o600 });
    env = {
      STACKD_LISTEN: `127.0.0.1:${port}`,
      STACKD_COMPOSE_COMMAND: 'docker compose',
      STACKD_REGISTRY_AUTH_FILE: auth,
      STACKD_WEBHOOK_REGISTRY_TOKEN: TOKEN,
      STACKD_RECONCILE_ROLLBACK: 'true',
      STACKD_SOURCE_POLL_INTERVAL: '1h',
      STACKD_RECONCILE_RESYNC_INTERVAL: '0',
    };
    await h.commit({
      'upd/compose.yaml': `services:\n${service('app', app, watched('digest'))}${service('db', db)}`,
      'note/compose.yaml': `services:\n${service('app', note, watched('notify'))}`,
      'steady/compose.yaml': `x-stackd:\n  update: digest\nservices:\n${service('app', steady)}`,
    });
  }, 120_000);

  afterAll(async () => {
    await d?.stop();
    await h.cleanup();
    await registry.close();
    await docker('rmi', BAD_IMAGE).catch(() => undefined);
  });

  it('deploys, and reports each watched service with its image and digest', async () => {
    // Polling off for now: only the registry webhook brings news.
    d = await startDaemon(h, { ...env, STACKD_IMAGES_POLL_INTERVAL: '0' });
    const shown = async (): Promise<string> =>
      `${JSON.stringify((await d?.stacks())?.stacks, null, 1)}\n${JSON.stringify(d?.logs.filter((l) => l['level'] !== 'debug').slice(-30))}`;
    await waitFor(
      'three stacks synced with their digests known',
      async () => {
        const stacks = (await d?.stacks())?.stacks ?? [];
        const mine = stacks.filter((s) => s.id.startsWith(h.prefix));
        return (
          mine.length === 3 &&
          mine.every((s) => s.status === 'synced' && typeof svc(s, 'app')?.digest === 'string')
        );
      },
      60_000,
      250,
    ).catch(async (error: unknown) => {
      throw new Error(`${String(error)}\n${await shown()}`);
    });
    digests['v1'] = await pushedDigest(app, await docker('image', 'inspect', '--format', '{{.Id}}', app));
    const upd = await d.stack(h.id('upd'));
    expect(svc(upd, 'app')).toMatchObject({ image: app, digest: digests['v1'], availableDigest: null });
    // db is not watched: its image is shown, no digest is looked at.
    expect(svc(upd, 'db')?.image).toBe(db);
    expect(svc(upd, 'db')).not.toHaveProperty('digest');
  }, 90_000);

  it('a registry push notification of app:1 recreates only app, on the new digest', async () => {
    const before = await h.ids('upd');
    const pushedAt = Date.now();
    await registry.push(IMAGE_V2, `stackd-${RUN_ID}/app:1`);
    await waitFor(
      'app to run the new digest',
      async () =>
        (await labelOf('upd', 'app')).id !== before['app'] &&
        (await d?.stack(h.id('upd')))?.status === 'synced',
      60_000,
      250,
    );
    const after = await labelOf('upd', 'app');
    digests['v2'] = after.digest ?? '';
    expect(digests['v2']).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(digests['v2']).not.toBe(digests['v1']);
    // The container runs what the label says: the image stackd-test/busybox:2 was pushed as.
    const image = (await engine.getContainer(after.id).inspect()).Image;
    expect(await pushedDigest(app, image)).toBe(digests['v2']);
    expect((await h.ids('upd'))['db']).toBe(before['db']);
    const upd = await d?.stack(h.id('upd'));
    expect(svc(upd, 'app')).toMatchObject({ digest: digests['v2'], availableDigest: null });
    // The registry's own notification brought it: a webhook accepted, then the check.
    expect(events('webhook.accepted').some((l) => l['provider'] === 'distribution')).toBe(true);
    expect(events('images.pulled').length).toBe(1);
    process.stdout.write(
      `image updates e2e: push → app recreated in ${Date.now() - pushedAt} ms (webhook)\n`,
    );
  }, 90_000);

  it('after a restart, polling finds a re-push, notify only reports, a failing digest rolls back', async () => {
    await d?.stop();
    const daemon = await startDaemon(h, { ...env, STACKD_IMAGES_POLL_INTERVAL: '2s' });
    d = daemon;
    await waitFor(
      'upd synced after the restart',
      async () => (await daemon.stack(h.id('upd')))?.status === 'synced',
      30_000,
      250,
    );
    const before = await h.ids('upd');
    const noteBefore = await h.ids('note');

    // Polling: app:1 moves to the other image; notify: note:1 moves, nothing is recreated.
    const start = (await labelOf('upd', 'app')).digest;
    await registry.push(
      (start ?? digests['v1']) === digests['v1'] ? IMAGE_V2 : IMAGE_V1,
      `stackd-${RUN_ID}/app:1`,
    );
    await registry.push(IMAGE_V2, `stackd-${RUN_ID}/note:1`);
    const now = await waitFor(
      'app on the re-pushed digest',
      async () => {
        const label = (await labelOf('upd', 'app')).digest;
        return label !== undefined && label !== start ? label : undefined;
      },
      60_000,
      250,
    );
    expect((await h.ids('upd'))['db']).toBe(before['db']);
    const noted = await waitFor(
      'note to report its update',
      async () => {
        const s = await daemon.stack(h.id('note'));
        return svc(s, 'app')?.availableDigest ? s : undefined;
      },
      30_000,
      250,
    );
    expect(noted.status).toBe('synced');
    // note:1 now holds the second image: reported, not applied.
    expect(svc(noted, 'app')?.digest).toBe(digests['v1']);
    expect(svc(noted, 'app')?.availableDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(svc(noted, 'app')?.availableDigest).not.toBe(digests['v1']);
    expect(
      await daemon.metric('stackd_image_update_available', { stack: h.id('note'), service: 'app' }),
    ).toBe(1);
    expect(await daemon.metric('stackd_image_update_available', { stack: h.id('upd'), service: 'app' })).toBe(
      0,
    );
    expect(await h.ids('note')).toEqual(noteBefore);

    // A new digest that fails readiness: rolled back to the first image, failed naming it.
    await registry.push(BAD_IMAGE, `stackd-${RUN_ID}/app:1`);
    const failed = await waitFor(
      'the bad digest rolled back',
      async () => {
        const s = await daemon.stack(h.id('upd'));
        return s?.status === 'failed' && s.message.includes('rolled back') ? s : undefined;
      },
      90_000,
      250,
    );
    const bad = svc(failed, 'app')?.availableDigest ?? '';
    expect(bad).toMatch(/^sha256:/);
    expect(failed.message).toContain(`image update of app to ${bad.slice(0, 19)}`);
    expect(failed.message).toContain(`rolled back to app ${now.slice(0, 19)}`);
    const restored = await labelOf('upd', 'app');
    expect(restored.digest).toBe(now);
    expect((await engine.getContainer(restored.id).inspect()).State.Running).toBe(true);
    expect((await h.ids('upd'))['db']).toBe(before['db']);
    expect(await daemon.metric('stackd_rollbacks_total', { stack: h.id('upd'), result: 'success' })).toBe(1);

    // Two minutes: checks keep finding the bad digest; it is not pulled again. The registry stops
    // half way: its checks count as failed, and nothing else changes.
    const windowStart = Math.floor(Date.now() / 1000);
    const pulledBefore = events('images.pulled').length;
    const okBefore = await daemon.metric('stackd_image_checks_total', { result: 'success' });
    const logFrom = registry.log().length;
    await new Promise((resolve) => setTimeout(resolve, 60_000));
    // The registry's own access log: the checks are manifest HEADs, no blob is fetched.
    const access = registry.log().slice(logFrom).split('\n');
    expect(access.filter((l) => /"HEAD \/v2\/[^"]*\/manifests\/1 /.test(l)).length).toBeGreaterThanOrEqual(
      20,
    );
    expect(access.filter((l) => /"GET \/v2\/[^ ]*\/blobs\//.test(l))).toEqual([]);
    const okDuring = (await daemon.metric('stackd_image_checks_total', { result: 'success' })) - okBefore;
    expect(okDuring).toBeGreaterThanOrEqual(20);
    const failuresBefore = await daemon.metric('stackd_image_checks_total', { result: 'failure' });
    await registry.close();
    await new Promise((resolve) => setTimeout(resolve, 60_000));
    const windowEnd = Math.ceil(Date.now() / 1000);
    const failuresDuring =
      (await daemon.metric('stackd_image_checks_total', { result: 'failure' })) - failuresBefore;
    expect(failuresDuring).toBeGreaterThanOrEqual(20);
    expect(events('images.pulled').length).toBe(pulledBefore);
    expect(events('images.pull_failed')).toEqual([]);
    // No pull at all in the window: the checks never pull, the bad digest was not applied again.
    for (const ref of [app, db, note, steady])
      expect([ref, await pullEvents(ref, windowStart, windowEnd)]).toEqual([ref, 0]);
    expect((await labelOf('upd', 'app')).id).toBe(restored.id);
    const stacks = (await daemon.stacks()).stacks.filter((s) => s.id.startsWith(h.prefix));
    expect(Object.fromEntries(stacks.map((s) => [s.id, s.status]))).toEqual({
      [h.id('upd')]: 'failed',
      [h.id('note')]: 'synced',
      [h.id('steady')]: 'synced',
    });
    expect(events('images.check_failed').length).toBeGreaterThan(0);
  }, 360_000);
});
