/**
 * The status is true at once: a commit changing 8 stacks, each of which takes a few seconds to
 * apply, one at a time. Before, the stacks still waiting read `synced` (API and /metrics) until
 * the queue reached them — the last one for most of a minute. Now each reads `out_of_sync`
 * ("queued") or `syncing` within a second of the snapshot, and its metric moves with it.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Daemon, startDaemon, waitForStack } from '../helpers/daemon.js';
import { waitFor } from '../helpers/docker.js';
import { Harness, composeFile } from '../helpers/stackd.js';
import { refresh } from '../faults/fault-helpers.js';

const NAMES = Array.from({ length: 8 }, (_, i) => `s${i}`);

describe('status while queued', () => {
  let h: Harness;
  let d: Daemon | undefined;

  beforeAll(async () => {
    h = await Harness.create('queued');
    await h.commit(Object.fromEntries(NAMES.map((n) => [`${n}/compose.yaml`, composeFile({ x: {} })])));
  });

  afterAll(async () => {
    await d?.stop().catch(() => undefined);
    await h.cleanup();
  });

  it('every changed stack reads out_of_sync (or syncing) within a second of the snapshot', async () => {
    d = await startDaemon(h, { STACKD_SOURCE_POLL_INTERVAL: '0' });
    const daemon = d;
    for (const n of NAMES)
      await waitForStack(daemon, h.id(n), 'synced', (s) => s.status === 'synced', 120_000);
    const rev = await h.commit(
      Object.fromEntries(NAMES.map((n) => [`${n}/compose.yaml`, composeFile({ x: { image: 2 } })])),
    );
    await refresh(daemon);
    const fetched = await waitFor(
      'the new snapshot',
      () => Promise.resolve(daemon.logs.find((l) => l['event'] === 'source.fetch' && l['revision'] === rev)),
      30_000,
      20,
    );
    const snapshotAt = Date.parse(String(fetched['timestamp']));
    const [response, metrics] = await Promise.all([
      daemon.stacks(),
      daemon.get('/metrics').then((r) => r.text()),
    ]);
    const readAt = Date.now();
    expect(readAt - snapshotAt).toBeLessThan(1000);
    const statuses = NAMES.map((n) => response.stacks.find((s) => s.id === h.id(n))?.status);
    expect(statuses.every((s) => s === 'out_of_sync' || s === 'syncing')).toBe(true);
    expect(statuses.filter((s) => s === 'out_of_sync').length).toBeGreaterThanOrEqual(6);
    const queued = response.stacks.filter((s) => s.status === 'out_of_sync');
    for (const s of queued) expect(s.message).toMatch(/^queued: the desired state changed at/);
    for (const n of NAMES) {
      expect(metrics).toContain(`stackd_stack_status{stack="${h.id(n)}",status="synced"} 0`);
    }
    // And then they are applied in turn (the stop lets the running one finish).
    const first = await waitForStack(
      daemon,
      h.id('s0'),
      'synced at the new commit',
      (s) => s.status === 'synced' && s.synced?.revision === rev,
      60_000,
    );
    expect(first.message).toBe('');
    expect(await daemon.stop()).toBe(0);
    d = undefined;
  });
});
