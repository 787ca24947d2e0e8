/**
 * Issue 11, end to end against the built daemon, the real engine and a real Git server: readiness
 * that means it (exits, restarts, unhealthy, one-shots), one attempt per commit, crash loops after
 * a sync, and automatic rollback — watched for three minutes, counting compose calls per stack.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { StackStatus } from '../../internal/status/index.js';
import { type Daemon, githubPush, startDaemon, waitForStack } from '../helpers/daemon.js';
import { engine } from '../helpers/docker.js';
import { Harness, composeFile } from '../helpers/stackd.js';

const SECRET = 'webhook-secret-for-health-tests';
const MIN_READY_S = 4;
const LIMIT = 3;
/** The windows: the crash loop watched over 3 minutes, held failures over 2. */
const WATCH_MS = 180_000;

const service = (lines: string[]): string =>
  [
    'services:',
    '  s:',
    '    image: stackd-test/busybox:1',
    '    stop_grace_period: 1s',
    ...lines.map((l) => `    ${l}`),
  ].join('\n') + '\n';

const STACKS = {
  'exit-now/compose.yaml': service(['command: ["sh", "-c", "exit 3"]']),
  'exit-later/compose.yaml': service(['command: ["sh", "-c", "sleep 2; exit 4"]']),
  'unhealthy/compose.yaml': service([
    'command: ["sleep", "3600"]',
    'healthcheck:',
    '  test: ["CMD", "false"]',
    '  interval: 500ms',
    '  retries: 2',
  ]),
  'flapping/compose.yaml': service(['command: ["sh", "-c", "sleep 1; exit 5"]', 'restart: always']),
  'oneshot/compose.yaml': service(['command: ["sh", "-c", "exit 0"]', 'restart: "no"']),
  // Passes the readiness wait, then exits: a crash loop after the sync.
  'crashloop/compose.yaml': service([`command: ["sh", "-c", "sleep ${MIN_READY_S + 3}; exit 1"]`]),
  'rollback/compose.yaml': composeFile({ a: {}, b: {} }),
};

/** `reconcile.start` lines of a stack so far: one per apply (validate + up) it started. */
function applies(d: Daemon, id: string): number {
  return d.logs.filter((l) => l['event'] === 'reconcile.start' && l['stack'] === id).length;
}

describe('health truth and the safety net (daemon, rollback on)', () => {
  let h: Harness;
  let d: Daemon;
  let off: Harness;
  let dOff: Daemon;
  let r1 = '';
  /** The last revision the rollback stack is synced at: the commit adding `talky` leaves it alone. */
  let synced = '';
  let r2 = '';
  let started = 0;
  let env: Record<string, string> = {};
  let rollbackIds: Record<string, string> = {};
  const rollbackHashes: Record<string, string> = {};

  beforeAll(async () => {
    h = await Harness.create('health');
    off = await Harness.create('healthoff');
    r1 = await h.commit(STACKS);
    await off.commit({ 'rollback/compose.yaml': composeFile({ a: {}, b: {} }) });
    env = {
      STACKD_WEBHOOK_SECRET: SECRET,
      STACKD_SOURCE_POLL_INTERVAL: '0',
      STACKD_RECONCILE_MIN_READY: `${MIN_READY_S}s`,
      STACKD_RECONCILE_CRASH_LOOP_LIMIT: String(LIMIT),
    };
    started = Date.now();
    [d, dOff] = await Promise.all([
      startDaemon(h, { ...env, STACKD_RECONCILE_ROLLBACK: 'true' }),
      startDaemon(off, { ...env, STACKD_RECONCILE_ROLLBACK: 'false' }),
    ]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([d.stop().catch(() => undefined), dOff.stop().catch(() => undefined)]);
    await Promise.all([h.cleanup(), off.cleanup()]);
  });

  it('a sound one-shot (restart: "no", exits 0) and a sound stack are synced', async () => {
    await waitForStack(d, h.id('oneshot'), 'synced', (s) => s.status === 'synced', 90_000);
    const stack = await waitForStack(d, h.id('rollback'), 'synced', (s) => s.status === 'synced', 90_000);
    expect(stack.synced?.revision).toBe(r1);
    rollbackIds = await h.ids('rollback');
    for (const c of await h.containers('rollback')) {
      rollbackHashes[c.Labels['com.docker.compose.service'] ?? '?'] =
        c.Labels['io.stackd.service-hash'] ?? '';
    }
  });

  it.each([
    ['exit-now', /^service s exited with code 3 /],
    ['exit-later', /^service s exited with code 4 /],
    ['unhealthy', /^service s is unhealthy/],
    ['flapping', /^service s (restarted \d+ times?|keeps restarting)/],
  ])('%s: failed, naming the service and why, never synced', async (name, message) => {
    const failed = await waitForStack(d, h.id(name), 'failed', (s) => s.status === 'failed', 90_000);
    expect(failed.message).toMatch(message);
    expect(failed.synced).toBeNull();
    expect(failed.lastResult?.outcome).toBe('failure');
    if (name === 'flapping') {
      // Its restart policy keeps restarting it; the API counts the restarts (and it stays failed).
      const counted = await waitForStack(
        d,
        h.id(name),
        'restarts counted',
        (s) => (s.services[0]?.restarts ?? 0) >= 2,
        30_000,
      );
      expect(counted.status).toBe('failed');
    }
    // SC-005: within minReady + 10 s of the apply ending.
    const failure = d.logs.find((l) => l['event'] === 'reconcile.failure' && l['stack'] === h.id(name));
    expect(failure).toMatchObject({ retry: false });
    expect(Number(failure?.['durationMs'])).toBeLessThan((MIN_READY_S + 10) * 1000);
    const synced = d.logs.filter((l) => l['event'] === 'reconcile.success' && l['stack'] === h.id(name));
    expect(synced).toEqual([]);
  });

  it('the failure message quotes the container log', async () => {
    synced = await h.commit({
      'talky/compose.yaml': service([
        'command: ["sh", "-c", "echo cannot open /data/db.sqlite >&2; exit 2"]',
      ]),
    });
    await githubPush(d.url, SECRET, 'refs/heads/main');
    const failed = await waitForStack(d, h.id('talky'), 'failed', (s) => s.status === 'failed', 60_000);
    expect(failed.message).toContain('service s exited with code 2');
    expect(failed.message).toContain('last log lines: cannot open /data/db.sqlite');
  });

  it('rollback: R2 breaks one service; it runs R1 again, the other keeps its container, the stack is failed with rollback.to = R1', async () => {
    r2 = await h.commit({
      'rollback/compose.yaml': composeFile({ a: { extra: 'entrypoint: ["sh", "-c", "exit 9"]' }, b: {} }),
    });
    await githubPush(d.url, SECRET, 'refs/heads/main');
    const failed = await waitForStack(
      d,
      h.id('rollback'),
      'failed with a rollback',
      (s) => s.status === 'failed' && s.rollback !== null,
      90_000,
    );
    expect(failed.message).toMatch(
      new RegExp(
        `^update to ${r2.slice(0, 12)} failed: service a exited with code 9 .*; rolled back to ${synced.slice(0, 12)}$`,
      ),
    );
    expect(failed.rollback).toMatchObject({ from: r2, to: synced });
    expect(failed.synced?.revision).toBe(synced);
    expect(failed.desired?.revision).toBe(r2);
    const now = await h.ids('rollback');
    expect(now['b']).toBe(rollbackIds['b']);
    const a = await engine.getContainer(now['a'] ?? '').inspect();
    expect(a.State.Status).toBe('running');
    expect(a.Config.Labels['io.stackd.revision']).toBe(synced);
    expect(a.Config.Labels['io.stackd.service-hash']).toBe(rollbackHashes['a']);
    expect(a.Config.Entrypoint ?? null).toBeNull();
    expect(await d.metric('stackd_rollbacks_total', { stack: h.id('rollback'), result: 'success' })).toBe(1);
  });

  it('rollback off: R2’s failed container stays, and the status says so', async () => {
    await waitForStack(dOff, off.id('rollback'), 'synced', (s) => s.status === 'synced', 90_000);
    const before = await off.ids('rollback');
    const rev = await off.commit({
      'rollback/compose.yaml': composeFile({ a: { extra: 'entrypoint: ["sh", "-c", "exit 9"]' }, b: {} }),
    });
    await githubPush(dOff.url, SECRET, 'refs/heads/main');
    const failed = await waitForStack(
      dOff,
      off.id('rollback'),
      'failed',
      (s) => s.status === 'failed',
      90_000,
    );
    expect(failed.message).toMatch(/^service a exited with code 9 /);
    expect(failed.rollback).toBeNull();
    expect(failed.desired?.revision).toBe(rev);
    const now = await off.ids('rollback');
    expect(now['b']).toBe(before['b']);
    const a = await engine.getContainer(now['a'] ?? '').inspect();
    expect(a.State.Status).toBe('exited');
    expect(a.Config.Labels['io.stackd.revision']).toBe(rev);
  });

  it(
    'over three minutes: the crash loop stops at the limit, held failures are not applied again, and fixing commits sync',
    async () => {
      const loop = await waitForStack(
        d,
        h.id('crashloop'),
        'a crash loop',
        (s) => s.status === 'failed',
        120_000,
      );
      expect(loop.message).toMatch(/^crash loop: s exited with code 1 3 times in \d+ min/);
      // Synced (followed by commits that left it alone) at the hash that then looped.
      expect(loop.synced?.composeHash).toBe(loop.desired?.composeHash);
      const held = ['exit-now', 'exit-later', 'unhealthy', 'flapping', 'talky', 'rollback'];
      const counts = Object.fromEntries(held.map((n) => [n, applies(d, h.id(n))]));
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + WATCH_MS - Date.now())));
      // The first deploy plus LIMIT - 1 self-heals; nothing after the loop was found.
      expect(applies(d, h.id('crashloop'))).toBeLessThanOrEqual(LIMIT + 1);
      expect(applies(d, h.id('crashloop'))).toBe(LIMIT);
      for (const n of held) expect(`${n} ${applies(d, h.id(n))}`).toBe(`${n} ${counts[n]}`);
      const statuses = (await d.stacks()).stacks;
      const status = (n: string): StackStatus | undefined => statuses.find((s) => s.id === h.id(n));
      for (const n of held) expect(`${n} ${status(n)?.status}`).toBe(`${n} failed`);
      expect(status('crashloop')?.status).toBe('failed');

      // A manual sync (`stackd sync ID` through the daemon) tries a held commit again, once.
      const manual = await h.cli(['sync', h.id('exit-now'), '--server', d.url]);
      expect(manual.exitCode).toBe(0);
      await waitForStack(
        d,
        h.id('exit-now'),
        'tried again',
        () => applies(d, h.id('exit-now')) === (counts['exit-now'] ?? 0) + 1,
        30_000,
      );
      await waitForStack(d, h.id('exit-now'), 'failed again', (s) => s.status === 'failed', 30_000);

      const r3 = await h.commit({
        'crashloop/compose.yaml': service(['command: ["sleep", "3600"]']),
        'rollback/compose.yaml': composeFile({ a: { image: 2 }, b: {} }),
      });
      await githubPush(d.url, SECRET, 'refs/heads/main');
      for (const n of ['crashloop', 'rollback']) {
        const fixed = await waitForStack(
          d,
          h.id(n),
          'synced at R3',
          (s) => s.status === 'synced' && s.synced?.revision === r3,
          60_000,
        );
        expect(fixed.rollback).toBeNull();
      }
      expect((await h.ids('rollback'))['b']).toBe(rollbackIds['b']);

      // A restart of stackd is not a new commit: held stacks stay failed and are not applied.
      expect(await d.stop()).toBe(0);
      d = await startDaemon(h, { ...env, STACKD_RECONCILE_ROLLBACK: 'true' });
      await waitForStack(
        d,
        h.id('rollback'),
        'reported after the restart',
        (s) => s.status === 'synced',
        30_000,
      );
      await new Promise((resolve) => setTimeout(resolve, 5000));
      for (const n of ['exit-now', 'unhealthy', 'flapping']) {
        expect(`${n} ${applies(d, h.id(n))}`).toBe(`${n} 0`);
        expect(`${n} ${(await d.stack(h.id(n)))?.status}`).toBe(`${n} failed`);
      }
    },
    WATCH_MS + 120_000,
  );
});
