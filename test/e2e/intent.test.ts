/**
 * Issue 16 end to end (the built daemon, the real engine, a real Git server): per-stack intent in
 * `x-stackd` — suspend (in the repository and through the API, across a restart), recreate:
 * stack, dependsOn with a health gate, cycles and typos failing the stacks involved.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { StackDetail } from '../../internal/status/index.js';
import { type Daemon, githubPush, startDaemon, waitForStack } from '../helpers/daemon.js';
import { docker, engine, waitFor } from '../helpers/docker.js';
import { Harness, composeFile } from '../helpers/stackd.js';

const SECRET = 'webhook-secret-intent-0123456789';

const withIntent = (lines: string[], compose: string): string =>
  `x-stackd:\n${lines.map((l) => `  ${l}`).join('\n')}\n${compose}`;

/** A database that turns healthy 3 s after it starts. */
const db = (extra = ''): string =>
  [
    'services:',
    '  db:',
    '    image: stackd-test/busybox:1',
    '    command: ["sh", "-c", "sleep 3; touch /tmp/ready; sleep 3600"]',
    '    stop_grace_period: 1s',
    '    healthcheck:',
    '      test: ["CMD", "sh", "-c", "[ -f /tmp/ready ]"]',
    '      interval: 500ms',
    '      retries: 30',
    ...(extra === '' ? [] : [`    ${extra}`]),
    '',
  ].join('\n');

describe('per-stack intent (x-stackd)', () => {
  let h: Harness;
  let d: Daemon;
  const env = { STACKD_WEBHOOK_SECRET: SECRET, STACKD_SOURCE_POLL_INTERVAL: '0' };
  const push = async (files: Parameters<Harness['commit']>[0]): Promise<string> => {
    const revision = await h.commit(files);
    await githubPush(d.url, SECRET, 'refs/heads/main');
    return revision;
  };
  const detail = async (name: string): Promise<StackDetail> =>
    (await (await d.get(`/api/v1/stacks/${encodeURIComponent(h.id(name))}`)).json()) as StackDetail;

  beforeAll(async () => {
    h = await Harness.create('intent');
    await h.commit({
      // app is listed first: with one worker it would be applied first without dependsOn.
      'app/compose.yaml': withIntent([`dependsOn: [${h.id('db')}]`], composeFile({ web: {} })),
      'db/compose.yaml': db(),
      'whole/compose.yaml': withIntent(['recreate: stack'], composeFile({ vpn: {}, app: {} })),
      'parts/compose.yaml': composeFile({ vpn: {}, app: {} }),
      'paused/compose.yaml': composeFile({ s: {} }),
      'later/compose.yaml': composeFile({ s: {} }),
      'typo/compose.yaml': withIntent(['prnue: true'], composeFile({ s: {} })),
    });
    d = await startDaemon(h, env);
  }, 60_000);

  afterAll(async () => {
    await d.stop().catch(() => undefined);
    await h.cleanup();
  });

  it("dependsOn: a fresh deploy starts app's containers only after db is healthy", async () => {
    const app = await waitForStack(d, h.id('app'), 'synced', (s) => s.status === 'synced', 90_000);
    expect(app.status).toBe('synced');
    const [dbInfo] = await h.containers('db');
    const [appInfo] = await h.containers('app');
    const dbState = (await engine.getContainer(dbInfo?.Id ?? '').inspect()).State;
    const appStarted = Date.parse((await engine.getContainer(appInfo?.Id ?? '').inspect()).State.StartedAt);
    const healthy = dbState.Health?.Log.find((l) => l.ExitCode === 0);
    const healthyAt = Date.parse(healthy?.End ?? '');
    const dbStarted = Date.parse(dbState.StartedAt);
    process.stdout.write(
      `intent e2e: db started, healthy +${healthyAt - dbStarted} ms; app started +${appStarted - dbStarted} ms\n`,
    );
    expect(healthyAt - dbStarted).toBeGreaterThanOrEqual(2_500);
    expect(appStarted).toBeGreaterThan(healthyAt);
    // The hold on the way was said in words.
    expect(
      d.logs.some(
        (l) =>
          l['event'] === 'reconcile.skip' &&
          l['stack'] === h.id('app') &&
          String(l['reason']).startsWith(`waiting for ${h.id('db')}: `),
      ),
    ).toBe(true);
  });

  it('a typo in x-stackd fails that stack naming the key; the others deploy', async () => {
    const typo = await waitForStack(d, h.id('typo'), 'failed', (s) => s.status === 'failed');
    expect(typo.message).toContain('unknown key `x-stackd.prnue`');
    expect(await h.containers('typo')).toEqual([]);
    await waitForStack(d, h.id('later'), 'synced', (s) => s.status === 'synced');
  });

  it('suspended in the repository: a change is not applied, a container stopped by hand is not healed', async () => {
    await waitForStack(d, h.id('paused'), 'synced', (x) => x.status === 'synced');
    const before = await h.ids('paused');
    await push({
      'paused/compose.yaml': withIntent(
        ['suspend: { reason: "db migration until 18:00" }'],
        composeFile({ s: { image: 2 } }),
      ),
    });
    const paused = await waitForStack(d, h.id('paused'), 'held', (x) => x.status === 'out_of_sync');
    expect(paused.message).toMatch(
      /^suspended \(x-stackd\.suspend\): db migration until 18:00; changed: s \(image /,
    );
    expect(paused.suspended).toMatchObject({ reason: 'db migration until 18:00', by: 'repo' });
    expect(await d.metric('stackd_stack_suspended', { stack: h.id('paused') })).toBe(1);
    const skips = (): number =>
      d.logs.filter((l) => l['event'] === 'reconcile.skip' && l['stack'] === h.id('paused')).length;
    const seen = skips();
    await docker('stop', before['s'] ?? '');
    // The stop is an event: the stack is looked at again, and left alone.
    await waitFor('the stop looked at', () => Promise.resolve(skips() > seen ? true : undefined), 30_000);
    const [stopped] = await h.containers('paused');
    expect([stopped?.Id, stopped?.State]).toEqual([before['s'], 'exited']);
    expect(
      d.logs.filter((l) => l['event'] === 'reconcile.start' && l['stack'] === h.id('paused')),
    ).toHaveLength(1);
  });

  it('recreate: stack recreates every service on a change to one; without it only the changed one', async () => {
    await waitForStack(d, h.id('whole'), 'synced', (s) => s.status === 'synced');
    await waitForStack(d, h.id('parts'), 'synced', (s) => s.status === 'synced');
    const whole = await h.ids('whole');
    const parts = await h.ids('parts');
    const r = await push({
      'whole/compose.yaml': withIntent(['recreate: stack'], composeFile({ vpn: { image: 2 }, app: {} })),
      'parts/compose.yaml': composeFile({ vpn: { image: 2 }, app: {} }),
    });
    await waitForStack(
      d,
      h.id('whole'),
      'synced at r',
      (s) => s.status === 'synced' && s.synced?.revision === r,
    );
    await waitForStack(
      d,
      h.id('parts'),
      'synced at r',
      (s) => s.status === 'synced' && s.synced?.revision === r,
    );
    const wholeAfter = await h.ids('whole');
    const partsAfter = await h.ids('parts');
    expect(wholeAfter['vpn']).not.toBe(whole['vpn']);
    expect(wholeAfter['app']).not.toBe(whole['app']);
    expect(partsAfter['vpn']).not.toBe(parts['vpn']);
    expect(partsAfter['app']).toBe(parts['app']);
    expect((await detail('whole')).history[0]?.changes).toEqual([
      { service: 'vpn', change: 'recreate', why: 'image stackd-test/busybox:1 → stackd-test/busybox:2' },
      { service: 'app', change: 'recreate', why: 'recreate: stack' },
    ]);
  });

  it("a commit breaking db holds app's next change, with the reason; a cycle fails both stacks", async () => {
    const appIds = await h.ids('app');
    const r = await push({
      'db/compose.yaml': db('entrypoint: ["sh", "-c", "exit 3"]'),
      'app/compose.yaml': withIntent([`dependsOn: [${h.id('db')}]`], composeFile({ web: { image: 2 } })),
      'c1/compose.yaml': withIntent([`dependsOn: [${h.id('c2')}]`], composeFile({ s: {} })),
      'c2/compose.yaml': withIntent([`dependsOn: [${h.id('c1')}]`], composeFile({ s: {} })),
    });
    await waitForStack(d, h.id('db'), 'failed', (s) => s.status === 'failed', 60_000);
    const app = await waitForStack(
      d,
      h.id('app'),
      'held for db',
      (s) => s.status === 'out_of_sync' && s.message.startsWith(`waiting for ${h.id('db')}: failed`),
      30_000,
    );
    expect(app.message).toContain('changed: web (image stackd-test/busybox:1 → stackd-test/busybox:2)');
    expect(await h.ids('app')).toEqual(appIds);
    for (const [name, other] of [
      ['c1', 'c2'],
      ['c2', 'c1'],
    ] as const) {
      const c = await waitForStack(d, h.id(name), 'failed', (s) => s.status === 'failed');
      expect(c.message).toContain('`x-stackd.dependsOn`: a cycle');
      expect(c.message).toContain(h.id(other));
      expect(await h.containers(name)).toEqual([]);
    }
    expect(r).toHaveLength(40);
  });

  it('stackd plan says the same: the dependency waited for, the suspension, the cycle', async () => {
    // A copy of the daemon's state, so that the plan's own fetch stays out of the daemon's way.
    const dir = join(h.root, 'plan-data');
    await mkdir(dir, { recursive: true });
    await copyFile(join(h.dataDir, 'state.json'), join(dir, 'state.json'));
    const r = await h.cli(['plan', '--output', 'json'], { STACKD_DATA_DIR: dir });
    const plan = JSON.parse(r.stdout) as { stacks: { id: string; action: string; reason: string }[] };
    const of = (name: string) => plan.stacks.find((s) => s.id === h.id(name));
    expect(of('app')).toMatchObject({ action: 'skip' });
    expect(of('app')?.reason).toMatch(new RegExp(`^waiting for ${h.id('db')}: failed; changed: web`));
    expect(of('paused')?.reason).toMatch(/^suspended \(x-stackd\.suspend\): db migration until 18:00; /);
    expect(of('c1')).toMatchObject({ action: 'skip' });
    expect(of('c1')?.reason).toContain('`x-stackd.dependsOn`: a cycle');
  });

  it('suspend over the API: a change is not applied, a container stopped by hand stays stopped, both across a restart; resume applies', async () => {
    const before = await h.ids('later');
    const cli = await h.cli(['suspend', h.id('later'), '--reason', 'hands off', '--server', d.url]);
    expect(cli.exitCode).toBe(0);
    const r = await push({ 'later/compose.yaml': composeFile({ s: { image: 2 } }) });
    await waitForStack(
      d,
      h.id('later'),
      'held',
      (s) => s.status === 'out_of_sync' && s.message.includes('changed: s'),
    );
    await docker('stop', before['s'] ?? '');
    // The stop is seen (an event) and looked at: held again, not healed.
    await waitFor('the stop looked at', async () => {
      const s = await d.stack(h.id('later'));
      return s?.services[0]?.state === 'exited' ? s : undefined;
    });
    await d.stop();
    d = await startDaemon(h, env);
    const after = await waitForStack(
      d,
      h.id('later'),
      'held after restart',
      (s) => s.status === 'out_of_sync',
    );
    expect(after.suspended).toMatchObject({ reason: 'hands off', by: 'api' });
    expect(after.message).toMatch(/^suspended \(stackd suspend\): hands off; /);
    const table = await h.cli(['status', '--server', d.url]);
    expect(table.stdout).toMatch(new RegExp(`${h.id('later')}\\s+out_of_sync \\(suspended\\)`));
    const [stopped] = await h.containers('later');
    expect([stopped?.Id, stopped?.State]).toEqual([before['s'], 'exited']);

    expect((await h.cli(['resume', h.id('later'), '--server', d.url])).exitCode).toBe(0);
    const resumed = await waitForStack(
      d,
      h.id('later'),
      'applied',
      (s) => s.status === 'synced' && s.synced?.revision === r,
      60_000,
    );
    expect(resumed.suspended).toBeNull();
    const [running] = await h.containers('later');
    expect(running?.State).toBe('running');
    expect(running?.Id).not.toBe(before['s']);
  }, 150_000);

  it('removing suspend from the compose file applies the change', async () => {
    const r = await push({ 'paused/compose.yaml': composeFile({ s: { image: 2 } }) });
    const s = await waitForStack(
      d,
      h.id('paused'),
      'synced',
      (x) => x.status === 'synced' && x.synced?.revision === r,
    );
    expect(s.suspended).toBeNull();
    expect((await h.containers('paused')).map((c) => [c.State, c.Image])).toEqual([
      ['running', 'stackd-test/busybox:2'],
    ]);
    expect(await d.metric('stackd_stack_suspended', { stack: h.id('paused') })).toBe(0);
  });
});
