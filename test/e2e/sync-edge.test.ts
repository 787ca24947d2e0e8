/**
 * Issue 4, scenarios 5–10 (compose v2): removal and its guards, per-stack failures, self-heal,
 * an unreachable engine, reconciliation disabled, untracked files.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { cleanupProjects, engine, makeTempDir, removeDir } from '../helpers/docker.js';
import { Harness, composeFile, stackOf } from '../helpers/stackd.js';

describe('sync --once: removal, failures, drift, engine, pause, untracked files', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await Harness.create('edge');
  });

  afterAll(async () => {
    await h.cleanup();
  });

  it('5. a stack removed from Git: prune off leaves it out_of_sync, prune on removes it; others are never touched', async () => {
    await h.commit({
      'keep/compose.yaml': composeFile({ k: {} }),
      'gone/compose.yaml': composeFile({ g: {} }),
    });
    expect((await h.sync()).exitCode).toBe(0);
    const keepIds = await h.ids('keep');
    // A container of another instance and one not made by stackd, in projects of their own.
    const foreignDir = await makeTempDir('stackd-foreign-');
    const otherProject = `${h.prefix}_otherinstance`;
    const plainProject = `${h.prefix}_notstackd`;
    try {
      await execa('docker', ['compose', '-p', plainProject, '-f', '-', 'up', '-d'], {
        input: composeFile({ p: {} }),
        cwd: foreignDir,
      });
      await execa('docker', ['compose', '-p', otherProject, '-f', '-', 'up', '-d'], {
        input: composeFile({
          o: { extra: 'labels:\n  io.stackd.managed-by: someone-else\n  io.stackd.stack: ' + h.id('gone2') },
        }),
        cwd: foreignDir,
      });
      await h.commit({ 'gone/compose.yaml': null });
      const held = await h.sync();
      expect(held.exitCode).toBe(0);
      expect(stackOf(held.response, h.id('gone'))).toMatchObject({
        status: 'out_of_sync',
        message: expect.stringContaining('removal is disabled'),
      });
      expect(Object.keys(await h.ids('gone'))).toEqual(['g']);

      const pruned = await h.sync({ STACKD_RECONCILE_PRUNE: 'true' });
      expect(pruned.exitCode).toBe(0);
      expect(stackOf(pruned.response, h.id('gone')).status).toBe('missing');
      // The working directory (data written into bind mounts) is kept.
      expect(existsSync(join(h.dataDir, 'work', h.id('gone'), 'compose.yaml'))).toBe(true);
      expect(await h.containers('gone')).toHaveLength(0);
      const networks = await engine.listNetworks({
        filters: { label: [`com.docker.compose.project=${h.project('gone')}`] },
      });
      expect(networks).toHaveLength(0);
      expect(await h.ids('keep')).toEqual(keepIds);
      const foreign = await engine.listContainers({
        all: true,
        filters: { label: [`com.docker.compose.project=${plainProject}`] },
      });
      const other = await engine.listContainers({
        all: true,
        filters: { label: [`com.docker.compose.project=${otherProject}`] },
      });
      expect(foreign.map((c) => c.State)).toEqual(['running']);
      expect(other.map((c) => c.State)).toEqual(['running']);

      // Emptying the repository removes nothing unless allowEmpty.
      await h.commit({ 'keep/compose.yaml': null });
      const empty = await h.sync({ STACKD_RECONCILE_PRUNE: 'true' });
      expect(stackOf(empty.response, h.id('keep'))).toMatchObject({
        status: 'out_of_sync',
        message: expect.stringContaining('allowEmpty'),
      });
      expect(await h.ids('keep')).toEqual(keepIds);
      const allowed = await h.sync({ STACKD_RECONCILE_PRUNE: 'true', STACKD_RECONCILE_ALLOW_EMPTY: 'true' });
      expect(stackOf(allowed.response, h.id('keep')).status).toBe('missing');
      expect(await h.containers('keep')).toHaveLength(0);
    } finally {
      await cleanupProjects([plainProject, otherProject]);
      await removeDir(foreignDir);
    }
  });

  it('6. an invalid compose file and a crashing container fail only their stacks, with reasons; fixing them converges', async () => {
    await h.commit({
      'good/compose.yaml': composeFile({ ok: {} }),
      'bad/compose.yaml': 'services:\n  x:\n    image: [unclosed\n',
      'crash/compose.yaml':
        'services:\n  c:\n    image: stackd-test/busybox:1\n    command: ["sh", "-c", "exit 3"]\n',
    });
    const { exitCode, response } = await h.sync();
    expect(exitCode).toBe(1);
    expect(stackOf(response, h.id('good')).status).toBe('synced');
    expect(stackOf(response, h.id('bad'))).toMatchObject({
      status: 'failed',
      message: expect.stringMatching(/compose\.yaml.*line \d+/),
    });
    expect(stackOf(response, h.id('crash'))).toMatchObject({
      status: 'failed',
      message: expect.stringContaining('exited with code 3'),
    });

    await h.commit({
      'bad/compose.yaml': composeFile({ x: {} }),
      'crash/compose.yaml': composeFile({ c: {} }),
    });
    const fixed = await h.sync();
    expect(fixed.exitCode).toBe(0);
    for (const name of ['good', 'bad', 'crash'])
      expect(stackOf(fixed.response, h.id(name)).status).toBe('synced');
  });

  it('7. a container removed by hand is recreated; with self-heal off the stack is out_of_sync and left alone', async () => {
    await h.commit({ 'heal/compose.yaml': composeFile({ a: {}, b: {} }) });
    expect((await h.sync()).exitCode).toBe(0);
    const ids = await h.ids('heal');
    await execa('docker', ['rm', '-f', ids['a'] ?? '']);

    const off = await h.sync({ STACKD_RECONCILE_SELF_HEAL: 'false' });
    expect(stackOf(off.response, h.id('heal'))).toMatchObject({
      status: 'out_of_sync',
      message: expect.stringContaining('self-heal disabled'),
    });
    expect(Object.keys(await h.ids('heal'))).toEqual(['b']);

    const on = await h.sync();
    expect(stackOf(on.response, h.id('heal')).status).toBe('synced');
    const after = await h.ids('heal');
    expect(after['a']).toBeDefined();
    expect(after['b']).toBe(ids['b']);
  });

  it('8. an unreachable engine fails clearly without losing the desired state; with it back, it converges', async () => {
    const rev = await h.commit({ 'engine/compose.yaml': composeFile({ e: {} }) });
    const down = await h.sync({ DOCKER_HOST: `unix://${join(h.root, 'no-such.sock')}` });
    expect(down.exitCode).toBe(1);
    const e = stackOf(down.response, h.id('engine'));
    expect(e.status).toBe('failed');
    expect(e.message).toMatch(/Docker engine unreachable/);
    expect(e.desired?.revision).toBe(rev);
    const up = await h.sync();
    expect(stackOf(up.response, h.id('engine')).status).toBe('synced');
  });

  it('9. with reconciliation disabled, statuses are computed and nothing changes', async () => {
    const before = await h.ids('heal');
    await h.commit({
      'heal/compose.yaml': composeFile({ a: { image: 2 }, b: {} }),
      'paused/compose.yaml': composeFile({ p: {} }),
    });
    const { exitCode, response } = await h.sync({ STACKD_RECONCILE_ENABLED: 'false' });
    expect(exitCode).toBe(0);
    expect(response.reconcileEnabled).toBe(false);
    expect(stackOf(response, h.id('heal'))).toMatchObject({
      status: 'out_of_sync',
      message: expect.stringContaining('reconciliation disabled'),
    });
    expect(stackOf(response, h.id('paused')).status).toBe('out_of_sync');
    expect(stackOf(response, h.id('good')).status).toBe('synced');
    expect(await h.ids('heal')).toEqual(before);
    expect(await h.containers('paused')).toHaveLength(0);
  });

  it('10. files a container writes into its stack directory survive a new commit to that stack', async () => {
    await h.commit({
      'data/compose.yaml': composeFile({ w: { extra: 'volumes:\n  - ./state:/state' } }),
      'data/state/.keep': '',
    });
    expect((await h.sync()).exitCode).toBe(0);
    const ids = await h.ids('data');
    await execa('docker', ['exec', ids['w'] ?? '', 'sh', '-c', 'echo precious > /state/db.txt']);
    await h.commit({
      'data/compose.yaml': composeFile({ w: { image: 2, extra: 'volumes:\n  - ./state:/state' } }),
    });
    expect((await h.sync()).exitCode).toBe(0);
    expect(await readFile(join(h.dataDir, 'work', h.id('data'), 'state/db.txt'), 'utf8')).toBe('precious\n');
    const after = await h.ids('data');
    expect(after['w']).not.toBe(ids['w']);
    const { stdout } = await execa('docker', ['exec', after['w'] ?? '', 'cat', '/state/db.txt']);
    expect(stdout).toBe('precious');
  });
});
