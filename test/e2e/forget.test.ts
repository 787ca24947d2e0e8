/**
 * The API and /metrics report the same stacks, against the built daemon, the real engine and a
 * real Git server: a stack removed from Git (prune on) is `missing` in both while the desired state
 * stays at the commit that removed it, and leaves both (and the state file) at the next commit; a
 * stack taken out of scope leaves both at once, its containers and state record untouched.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { StateData } from '../../internal/state/index.js';
import { STACK_STATUSES } from '../../internal/status/index.js';
import { type Daemon, startDaemon, waitForStack } from '../helpers/daemon.js';
import { waitFor } from '../helpers/docker.js';
import { Harness, composeFile } from '../helpers/stackd.js';

describe('stackd run: removed and out-of-scope stacks leave the API and /metrics together', () => {
  let h: Harness;
  let d: Daemon;
  const env = { STACKD_SOURCE_POLL_INTERVAL: '0', STACKD_RECONCILE_PRUNE: 'true' };

  beforeAll(async () => {
    h = await Harness.create('forget');
    await h.commit({
      'web/compose.yaml': composeFile({ w: {} }),
      'gone/compose.yaml': composeFile({ g: {} }),
      'other/compose.yaml': composeFile({ o: {} }),
    });
    d = await startDaemon(h, env);
  });

  afterAll(async () => {
    await d.stop().catch(() => undefined);
    await h.cleanup();
  });

  const listed = async (): Promise<string[]> => (await d.stacks()).stacks.map((s) => s.id).sort();

  /** Stack ids with any `stackd_stack_status` series, and the status of each that is 1. */
  async function exported(): Promise<Record<string, string[]>> {
    const text = await (await d.get('/metrics')).text();
    const out: Record<string, string[]> = {};
    for (const line of text.split('\n')) {
      const m = /^stackd_stack_status\{stack="([^"]*)",status="([^"]*)"\} (\S+)$/.exec(line);
      if (m === null) continue;
      const [, stack = '', status = '', value] = m;
      const current = (out[stack] ??= []);
      if (value === '1') current.push(status);
    }
    return out;
  }

  async function refresh(): Promise<void> {
    const r = await fetch(`${d.url}/api/v1/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    expect(r.status).toBe(202);
  }

  it('lists and exports the three stacks synced', async () => {
    for (const name of ['web', 'gone', 'other'])
      await waitForStack(d, h.id(name), 'synced', (s) => s.status === 'synced');
    expect(await listed()).toEqual([h.id('gone'), h.id('other'), h.id('web')]);
    const metrics = await exported();
    expect(Object.keys(metrics).sort()).toEqual(await listed());
    for (const name of ['web', 'gone', 'other']) expect(metrics[h.id(name)]).toEqual(['synced']);
  });

  it('removed from Git with prune on: `missing` in the API and in /metrics, at that commit', async () => {
    const removedAt = await h.commit({ 'gone/compose.yaml': null });
    await refresh();
    const gone = await waitForStack(d, h.id('gone'), 'missing', (s) => s.status === 'missing');
    expect(gone.message).toContain('removed');
    expect(await h.containers('gone')).toHaveLength(0);
    expect((await d.stacks()).revision).toBe(removedAt);
    expect(await listed()).toEqual([h.id('gone'), h.id('other'), h.id('web')]);
    expect((await exported())[h.id('gone')]).toEqual(['missing']);
    for (const status of STACK_STATUSES) {
      expect(await d.metric('stackd_stack_status', { stack: h.id('gone'), status })).toBe(
        status === 'missing' ? 1 : 0,
      );
    }
    expect(await d.metric('stackd_reconcile_total', { stack: h.id('gone'), result: 'success' })).toBe(2);

    // A manual sync of the missing stack (a pass at the same revision) keeps it reported.
    const sync = await fetch(`${d.url}/api/v1/stacks/${encodeURIComponent(h.id('gone'))}/sync`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    expect(sync.status).toBe(202);
    await waitFor('the manual run to finish', async () => {
      const runs = (await (await d.get('/api/v1/runs')).json()) as {
        runs: { trigger: string; finishedAt: string | null }[];
      };
      return runs.runs[0]?.trigger === 'manual' && runs.runs[0].finishedAt !== null;
    });
    expect((await d.stack(h.id('gone')))?.status).toBe('missing');
    expect((await exported())[h.id('gone')]).toEqual(['missing']);
  });

  it('the next commit still without it: gone from the API, /metrics and the state file', async () => {
    const next = await h.commit({ 'web/compose.yaml': composeFile({ w: { image: 2 } }) });
    await refresh();
    await waitForStack(d, h.id('web'), 'synced at the next commit', (s) => s.synced?.revision === next);
    await waitFor('gone to leave the API', async () => !(await listed()).includes(h.id('gone')));
    expect(await listed()).toEqual([h.id('other'), h.id('web')]);
    expect((await d.get(`/api/v1/stacks/${encodeURIComponent(h.id('gone'))}`)).status).toBe(404);
    const metrics = await exported();
    expect(Object.keys(metrics).sort()).toEqual(await listed());
    const text = await (await d.get('/metrics')).text();
    expect(text).not.toContain(`stack="${h.id('gone')}"`);
    expect(d.logs.some((l) => l['event'] === 'stack.forgotten' && l['stack'] === h.id('gone'))).toBe(true);
    await waitFor('the state file without it', async () => {
      const state = JSON.parse(await readFile(join(h.dataDir, 'state.json'), 'utf8')) as StateData;
      return state.stacks[h.id('gone')] === undefined && state.stacks[h.id('web')]?.synced?.revision === next;
    });
  });

  it('taken out of scope (restart with scope.exclude): gone from both at once, its containers and record kept', async () => {
    const containers = await h.ids('other');
    expect(await d.stop()).toBe(0);
    d = await startDaemon(h, { ...env, STACKD_SCOPE_EXCLUDE: h.id('other') });
    // Reported from the state file before any fetch or reconcile: already without it.
    expect(await listed()).toEqual([h.id('web')]);
    expect(Object.keys(await exported())).toEqual([h.id('web')]);
    await waitFor('readyz 200', async () => (await d.get('/readyz')).status === 200, 30_000);
    await waitForStack(d, h.id('web'), 'synced', (s) => s.status === 'synced');
    expect(await listed()).toEqual([h.id('web')]);
    const text = await (await d.get('/metrics')).text();
    expect(text).not.toContain(`stack="${h.id('other')}"`);
    expect((await exported())[h.id('web')]).toEqual(['synced']);
    expect(await h.ids('other')).toEqual(containers);
    const state = JSON.parse(await readFile(join(h.dataDir, 'state.json'), 'utf8')) as StateData;
    expect(state.stacks[h.id('other')]?.status).toBe('synced');
  });
});
