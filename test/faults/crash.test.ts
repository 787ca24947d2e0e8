/**
 * Faults around stackd's own durability: `kill -9` in the middle of an apply, and a state file
 * that is truncated, empty, not JSON or of the wrong shape at start-up. Statuses must come back
 * true (rebuilt from container labels where the state is lost) without redeploying anything.
 */
import { mkdir, readFile, readdir, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { StacksResponse } from '../../internal/status/index.js';
import { type Daemon, startDaemon, waitForStack } from '../helpers/daemon.js';
import { isAlive } from '../helpers/docker.js';
import { Harness, composeFile, stackOf } from '../helpers/stackd.js';
import { expectNoStackTrace, logText, refresh, slowCompose } from './fault-helpers.js';

describe('fault: stackd killed or its state file damaged', () => {
  let h: Harness;
  let d: Daemon | undefined;
  let rev: string;
  const statePath = (): string => join(h.dataDir, 'state.json');
  const corruptFiles = async (): Promise<string[]> =>
    (await readdir(h.dataDir)).filter((f) => f.startsWith('state.json.corrupt-'));

  beforeAll(async () => {
    h = await Harness.create('crash');
    await h.commit({
      'web/compose.yaml': composeFile({ a: {}, b: {} }),
      'slow/compose.yaml': slowCompose(1),
    });
  });

  afterAll(async () => {
    await d?.stop().catch(() => undefined);
    await h.cleanup();
  });

  it('kill -9 during an apply, then a restart: nothing stuck at `syncing`, the state file intact, it converges', async () => {
    d = await startDaemon(h, { STACKD_SOURCE_POLL_INTERVAL: '0' });
    await waitForStack(d, h.id('slow'), 'synced', (s) => s.status === 'synced');
    await waitForStack(d, h.id('web'), 'synced', (s) => s.status === 'synced');
    const webIds = await h.ids('web');

    rev = await h.commit({ 'slow/compose.yaml': slowCompose(2) });
    await refresh(d);
    await waitForStack(d, h.id('slow'), 'syncing', (s) => s.status === 'syncing', 20_000);
    const killed = d;
    await killed.stop('SIGKILL');
    expect(await isAlive(killed.pid)).toBe(false);
    expect(await h.ids('web')).toEqual(webIds);

    d = await startDaemon(h, { STACKD_SOURCE_POLL_INTERVAL: '0' });
    const first = await d.stack(h.id('slow'));
    expect(first?.status).not.toBe('syncing');
    // The state was written atomically: a kill never leaves a half-written file behind.
    expect(await corruptFiles()).toEqual([]);
    const slow = await waitForStack(
      d,
      h.id('slow'),
      'synced after the restart',
      (s) => s.status === 'synced' && s.synced?.revision === rev,
    );
    expect(slow.services.map((s) => [s.name, s.state, s.inSync])).toEqual([['s', 'running', true]]);
    await waitForStack(
      d,
      h.id('web'),
      'synced after the restart',
      (s) => s.status === 'synced' && s.synced?.revision === rev,
    );
    expect(await h.ids('web')).toEqual(webIds);
    expect(await d.stop()).toBe(0);
    expectNoStackTrace(logText(d));
    d = undefined;
  });

  it('a truncated state file: moved aside, a warning logged, statuses rebuilt from labels, nothing redeployed', async () => {
    const ids = { web: await h.ids('web'), slow: await h.ids('slow') };
    const size = (await readFile(statePath())).length;
    expect(size).toBeGreaterThan(100);
    await truncate(statePath(), Math.floor(size / 2));

    d = await startDaemon(h, { STACKD_SOURCE_POLL_INTERVAL: '0' });
    const daemon = d;
    const warning = daemon.logs.find((l) => l['event'] === 'state.corrupt');
    expect(warning).toMatchObject({ level: 'warn' });
    expect(await corruptFiles()).toHaveLength(1);
    for (const name of ['web', 'slow']) {
      await waitForStack(
        daemon,
        h.id(name),
        'synced, rebuilt',
        (s) => s.status === 'synced' && s.synced?.revision === rev,
      );
    }
    expect({ web: await h.ids('web'), slow: await h.ids('slow') }).toEqual(ids);
    expect(daemon.logs.filter((l) => l['event'] === 'reconcile.start')).toEqual([]);
    expect(await daemon.stop()).toBe(0);
    expectNoStackTrace(logText(daemon));
    d = undefined;
    // Written anew, whole.
    expect(JSON.parse(await readFile(statePath(), 'utf8'))).toMatchObject({ stacks: expect.any(Object) });
  });

  it.each([
    ['not JSON at all', '{"version": 1, "stacks": {oops'],
    ['empty', ''],
    ['JSON of the wrong shape', '{"version": 1, "stacks": {"x": 5}}'],
    ['binary garbage', '\u0000\u0001\u00ff\u00fe'.repeat(64)],
  ])(
    'a state file that is %s: sync --once moves it aside, warns, rebuilds from labels, redeploys nothing',
    async (_what, content) => {
      const ids = { web: await h.ids('web'), slow: await h.ids('slow') };
      const before = (await corruptFiles()).length;
      await writeFile(statePath(), content);
      const { exitCode, response, stderr } = await h.sync();
      expect(exitCode).toBe(0);
      expect(stderr).toMatch(/"event":"state\.corrupt"/);
      expect(stderr).toMatch(/moved aside/);
      expectNoStackTrace(stderr);
      expect((await corruptFiles()).length).toBe(before + 1);
      expectRebuilt(response, rev);
      expect({ web: await h.ids('web'), slow: await h.ids('slow') }).toEqual(ids);
      expect(stderr).not.toMatch(/reconcile\.start/);
    },
  );

  it.each([
    [
      'a record lacking `synced`',
      async (text: string) => {
        const data = JSON.parse(text) as { stacks: Record<string, Record<string, unknown>> };
        for (const record of Object.values(data.stacks)) delete record['synced'];
        await writeFile(statePath(), JSON.stringify(data));
      },
    ],
    [
      'a `__proto__` stack that is not a record',
      async (text: string) => {
        await writeFile(
          statePath(),
          text.replace('"stacks": {', '"stacks": {"__proto__": {"status": "synced"},'),
        );
      },
    ],
    [
      'a `constructor` stack that is not a record',
      async (text: string) => {
        await writeFile(statePath(), text.replace('"stacks": {', '"stacks": {"constructor": [1, 2],'));
      },
    ],
    [
      'a directory in place of the file',
      async () => {
        await mkdir(join(h.dataDir, 'state.json.tmp-dir'));
        const { rename, rm } = await import('node:fs/promises');
        await rm(statePath());
        await rename(join(h.dataDir, 'state.json.tmp-dir'), statePath());
      },
    ],
  ])(
    'state.json with %s: `stackd run` starts, moves it aside, rebuilds from labels',
    async (_what, damage) => {
      const ids = { web: await h.ids('web'), slow: await h.ids('slow') };
      const before = (await corruptFiles()).length;
      await damage(await readFile(statePath(), 'utf8'));
      d = await startDaemon(h, { STACKD_SOURCE_POLL_INTERVAL: '0' });
      const daemon = d;
      expect(daemon.logs.find((l) => l['event'] === 'state.corrupt')).toMatchObject({ level: 'warn' });
      expect((await corruptFiles()).length).toBe(before + 1);
      for (const name of ['web', 'slow']) {
        await waitForStack(
          daemon,
          h.id(name),
          'synced, rebuilt',
          (s) => s.status === 'synced' && s.synced?.revision === rev,
        );
      }
      expect({ web: await h.ids('web'), slow: await h.ids('slow') }).toEqual(ids);
      expect(await daemon.stop()).toBe(0);
      expectNoStackTrace(logText(daemon));
      d = undefined;
      expect(JSON.parse(await readFile(statePath(), 'utf8'))).toMatchObject({ version: 1 });
    },
  );

  function expectRebuilt(response: StacksResponse, revision: string): void {
    for (const name of ['web', 'slow']) {
      expect(stackOf(response, h.id(name))).toMatchObject({
        status: 'synced',
        synced: { revision, composeHash: expect.stringMatching(/^sha256:/) },
      });
    }
  }
});
