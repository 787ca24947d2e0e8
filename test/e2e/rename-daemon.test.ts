/**
 * `stackd run` with prune off and no periodic resync: a stack renamed with `name:` is held while
 * its old project runs; once the operator takes the old project down by hand, the Docker events
 * alone bring the new project up (nothing else links the vanished project to the stack).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { type Daemon, startDaemon, waitForStack } from '../helpers/daemon.js';
import { engine } from '../helpers/docker.js';
import { Harness, composeFile } from '../helpers/stackd.js';

describe('stackd run: a renamed project taken down by hand', () => {
  let h: Harness;
  let d: Daemon | undefined;

  beforeAll(async () => {
    h = await Harness.create('renamed');
  });

  afterAll(async () => {
    await d?.stop().catch(() => undefined);
    await h.cleanup();
  });

  const running = async (project: string): Promise<string[]> =>
    (
      await engine.listContainers({
        all: true,
        filters: { label: [`com.docker.compose.project=${project}`] },
      })
    ).map((c) => c.State);

  it('is held, then deployed as soon as the old project is gone', async () => {
    await h.commit({ 'app/compose.yaml': composeFile({ a: {} }) });
    d = await startDaemon(h, { STACKD_SOURCE_POLL_INTERVAL: '0', STACKD_RECONCILE_RESYNC_INTERVAL: '0' });
    const daemon = d;
    await waitForStack(daemon, h.id('app'), 'synced', (s) => s.status === 'synced');
    const oldProject = h.project('app');
    const newProject = `${h.prefix}-app2`;

    await h.commit({ 'app/compose.yaml': `name: ${newProject}\n${composeFile({ a: {} })}` });
    expect(
      (
        await fetch(`${daemon.url}/api/v1/refresh`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
        })
      ).status,
    ).toBe(202);
    // The new commit first marks the stack `out_of_sync` ("queued: …"); the reconcile then holds it.
    const held = await waitForStack(
      daemon,
      h.id('app'),
      'held',
      (s) => s.status === 'out_of_sync' && !s.message.startsWith('queued:'),
    );
    expect(held.message).toContain(`still runs as ${oldProject}; removal is disabled`);
    expect(await running(oldProject)).toEqual(['running']);
    expect(await running(newProject)).toEqual([]);

    await execa('docker', ['rm', '-f', ...(await h.containers('app')).map((c) => c.Id)]);
    await waitForStack(
      daemon,
      h.id('app'),
      'synced as the new project',
      (s) => s.status === 'synced',
      30_000,
    );
    expect(await running(newProject)).toEqual(['running']);
    expect(await running(oldProject)).toEqual([]);
  });
});
