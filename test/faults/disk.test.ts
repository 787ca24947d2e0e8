/**
 * Fault: the data directory's file system is full. dataDir is a small tmpfs mounted for this
 * test (root is needed); it is filled completely, or filled so that a fetch fits but a stack's
 * working files do not. stackd must say so clearly, keep running, remove nothing, and converge
 * once space is freed.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rm, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { type Daemon, startDaemon, waitForStack } from '../helpers/daemon.js';
import { isAlive, waitFor } from '../helpers/docker.js';
import { Harness, composeFile, stackOf } from '../helpers/stackd.js';
import { expectNoStackTrace, logText, refresh } from './fault-helpers.js';

const MIB = 1024 * 1024;
const NO_SPACE = /ENOSPC|no space left on device/i;

/** Write zeros into `path` until the file system is full, or until only `leave` bytes are free. */
async function fill(path: string, dir: string, leave = 0): Promise<void> {
  const chunk = Buffer.alloc(64 * 1024);
  const file = await open(path, 'a');
  try {
    for (;;) {
      const s = await statfs(dir);
      const free = s.bavail * s.bsize;
      if (free <= leave) return;
      const n = Math.min(chunk.length, Math.max(free - leave, 4096));
      await file.write(chunk, 0, n);
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    await file.close().catch(() => undefined);
  }
}

/** Temporary files (`*.tmp`) anywhere under `dir`: a failed atomic write must not leave them. */
async function tempFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.filter((e) => e.endsWith('.tmp'));
}

describe('fault: dataDir on a full file system', () => {
  let h: Harness;
  let mounted = false;
  let d: Daemon | undefined;
  let fillPath: string;

  beforeAll(async () => {
    h = await Harness.create('disk');
    await mkdir(h.dataDir, { recursive: true });
    const m = await execa('mount', ['-t', 'tmpfs', '-o', 'size=12m,mode=0700', 'tmpfs', h.dataDir], {
      reject: false,
    });
    if (m.exitCode !== 0) throw new Error(`this test needs to mount a tmpfs (run as root): ${m.stderr}`);
    mounted = true;
    fillPath = join(h.dataDir, 'fill');
  });

  afterAll(async () => {
    await d?.stop().catch(() => undefined);
    if (mounted) await execa('umount', ['-l', h.dataDir], { reject: false });
    await h.cleanup();
  });

  it('completely full: sync --once and the daemon fail clearly, keep the last good state, remove nothing; freed, they converge', async () => {
    const rev1 = await h.commit({ 'a/compose.yaml': composeFile({ x: {}, y: {} }) });
    const first = await h.sync();
    expect(first.exitCode).toBe(0);
    expect(stackOf(first.response, h.id('a')).status).toBe('synced');
    const ids = await h.ids('a');

    const rev2 = await h.commit({
      'a/compose.yaml': composeFile({ x: { image: 2 }, y: {} }),
      'c/compose.yaml': composeFile({ z: {} }),
      'c/big.bin': randomBytes(256 * 1024).toString('base64'),
    });
    await fill(fillPath, h.dataDir);

    const full = await h.sync();
    expect(full.exitCode).toBe(3); // the fetch failed
    expect(full.stderr).toMatch(NO_SPACE);
    // One line says it: the source's failed fetch (sync --once does not repeat it).
    expect(full.stderr).toMatch(/"event":"source\.fetch".*"result":"failure"/);
    expectNoStackTrace(full.stderr);
    expect(full.response.revision).toBe(rev1);
    expect(stackOf(full.response, h.id('a'))).toMatchObject({ status: 'synced', synced: { revision: rev1 } });
    expect(await h.ids('a')).toEqual(ids);

    d = await startDaemon(h, { STACKD_SOURCE_POLL_INTERVAL: '0' });
    const daemon = d;
    await waitFor(
      'a failed fetch logged',
      () => daemon.logs.some((l) => l['event'] === 'source.fetch' && l['result'] === 'failure'),
      20_000,
    );
    await refresh(daemon);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await isAlive(daemon.pid)).toBe(true);
    expect((await daemon.get('/healthz')).status).toBe(200);
    const held = await daemon.stacks();
    expect(held.revision).toBe(rev1);
    expect(stackOf(held, h.id('a')).status).toBe('synced');
    expect(await h.ids('a')).toEqual(ids);
    expect(logText(daemon)).toMatch(NO_SPACE);

    await rm(fillPath);
    await refresh(daemon);
    for (const name of ['a', 'c']) {
      await waitForStack(
        daemon,
        h.id(name),
        'synced after space was freed',
        (s) => s.status === 'synced' && s.synced?.revision === rev2,
      );
    }
    const after = await h.ids('a');
    expect(after['y']).toBe(ids['y']);
    expect(after['x']).not.toBe(ids['x']);
    expect(await daemon.stop()).toBe(0);
    expectNoStackTrace(logText(daemon));
    d = undefined;
  });

  it('room for the fetch but not for a stack’s files: only that stack fails, with the reason; freed, it converges', async () => {
    d = await startDaemon(h, { STACKD_SOURCE_POLL_INTERVAL: '0' });
    const daemon = d;
    await waitForStack(daemon, h.id('a'), 'synced', (s) => s.status === 'synced');
    const ids = await h.ids('a');
    // ~3 MiB of incompressible data: the pack carries it once, the working tree needs it again.
    const rev = await h.commit({
      'big/compose.yaml': composeFile({ b: {} }),
      'big/blob.bin': randomBytes(2 * MIB).toString('base64'),
      'a/compose.yaml': composeFile({ x: { image: 2 }, y: {} }),
      'a/note.txt': 'changed, no service references it\n',
    });
    await fill(fillPath, h.dataDir, 4 * MIB);
    await refresh(daemon);
    await waitFor('the new revision fetched', async () => (await daemon.stacks()).revision === rev, 20_000);
    const failed = await waitForStack(daemon, h.id('big'), 'failed', (s) => s.status === 'failed', 30_000);
    expect(failed.message).toMatch(NO_SPACE);
    expect(await isAlive(daemon.pid)).toBe(true);
    expect(await h.ids('a')).toEqual(ids);
    expect(await h.containers('big')).toHaveLength(0);

    await rm(fillPath);
    await waitForStack(
      daemon,
      h.id('big'),
      'synced after space was freed',
      (s) => s.status === 'synced' && s.synced?.revision === rev,
      60_000,
    );
    await waitForStack(
      daemon,
      h.id('a'),
      'synced',
      (s) => s.status === 'synced' && s.synced?.revision === rev,
    );
    expect(await h.ids('a')).toEqual(ids);
    expect(await daemon.stop()).toBe(0);
    expectNoStackTrace(logText(daemon));
    d = undefined;
    expect(await tempFiles(h.dataDir)).toEqual([]);
  });
});
