import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryLogger } from '../log/memory.test-helpers.js';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { Logger } from '../log/index.js';
import { DataDirLockedError, LOCK_FILE, LockError, acquireDataDirLock, type DataDirLock } from './index.js';

let dir: string;
let lockPath: string;
const locks: DataDirLock[] = [];
const children: ChildProcess[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stackd-lock-'));
  lockPath = join(dir, LOCK_FILE);
});
afterEach(async () => {
  for (const lock of locks.splice(0)) lock.releaseSync();
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

async function acquire(
  options: { dataDir?: string; logger?: Logger; youngMs?: number } = {},
): Promise<DataDirLock> {
  const lock = await acquireDataDirLock({
    dataDir: options.dataDir ?? dir,
    logger: options.logger ?? memoryLogger().logger,
    ...(options.youngMs === undefined ? {} : { youngMs: options.youngMs }),
  });
  locks.push(lock);
  return lock;
}

/** A process that is running (`sleep`), killed after the test. */
async function liveProcess(): Promise<number> {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  children.push(child);
  await new Promise((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  return child.pid!;
}

/** The pid of a process that ran, exited and was waited for. */
async function deadPid(): Promise<number> {
  const child = spawn('true', [], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

const firstLine = async (): Promise<string> => (await readFile(lockPath, 'utf8')).split('\n')[0] ?? '';
const locked = (pid: number, dataDir = dir): string =>
  `another stackd (pid ${pid}) is using dataDir ${dataDir} (it holds ${join(dataDir, LOCK_FILE)}); stop it first`;

/** Makes the lock file look written a minute ago (not one a starting stackd is writing). */
async function age(): Promise<void> {
  const then = new Date(Date.now() - 60_000);
  await utimes(lockPath, then, then);
}

const PROC = existsSync('/proc/self/stat') && existsSync('/proc/sys/kernel/random/boot_id');

async function startTime(pid: number): Promise<string> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
}

describe('acquireDataDirLock', () => {
  it('creates dataDir/stackd.lock holding our pid, and release removes it', async () => {
    const dataDir = join(dir, 'not', 'yet');
    lockPath = join(dataDir, LOCK_FILE);
    const lock = await acquire({ dataDir });
    expect(lock.path).toBe(lockPath);
    expect(await firstLine()).toBe(String(process.pid));
    await lock.release();
    expect(existsSync(lockPath)).toBe(false);
    await lock.release(); // idempotent
    const again = await acquire({ dataDir });
    expect(await firstLine()).toBe(String(process.pid));
    again.releaseSync();
    expect(existsSync(lockPath)).toBe(false);
  });

  it('a lock held by this (running) process: a second take fails naming our pid, the lock untouched', async () => {
    await acquire();
    const before = await readFile(lockPath, 'utf8');
    const error = await acquire().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataDirLockedError);
    expect((error as Error).message).toBe(locked(process.pid));
    expect((error as DataDirLockedError).pid).toBe(process.pid);
    expect(await readFile(lockPath, 'utf8')).toBe(before);
  });

  it('two takes at once in one process: exactly one wins', async () => {
    const results = await Promise.allSettled([acquire(), acquire()]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const failed = results.find((r) => r.status === 'rejected');
    expect(failed?.reason).toBeInstanceOf(DataDirLockedError);
  });

  it('a lock held by another running process: fails naming its pid, changes nothing', async () => {
    const pid = await liveProcess();
    await writeFile(lockPath, `${pid}\n`);
    await age();
    const error = await acquire().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataDirLockedError);
    expect((error as Error).message).toBe(locked(pid));
    expect((error as DataDirLockedError).exitCode).toBe(5);
    expect((error as DataDirLockedError).path).toBe(lockPath);
    expect(await readFile(lockPath, 'utf8')).toBe(`${pid}\n`);
    expect(await readdir(dir)).toEqual([LOCK_FILE]);
  });

  it('a lock whose process is gone: replaced, with a warning naming the old pid', async () => {
    const pid = await deadPid();
    await writeFile(lockPath, `${pid}\n`);
    const log = memoryLogger();
    await acquire({ logger: log.logger });
    expect(await firstLine()).toBe(String(process.pid));
    const warnings = (await log.lines()).filter((l) => l['event'] === 'state.lock_stale');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 'warn', path: lockPath });
    expect(String(warnings[0]?.['message'])).toContain(`pid ${pid} is no longer running`);
    expect(await readdir(dir)).toEqual([LOCK_FILE]);
  });

  it('a lock left by a previous process that had our pid (a restarted container): replaced', async () => {
    await writeFile(lockPath, `${process.pid}\n`);
    await acquire();
    expect(await firstLine()).toBe(String(process.pid));
  });

  it.each([
    ['empty', ''],
    ['text', 'hello\n'],
    ['binary', '\u0000\u0001\u0002'],
    ['pid 0', '0\n'],
    ['a negative pid', '-1\n'],
    ['a huge pid', '99999999999\n'],
    ['a pid with junk', '12x\n'],
  ])('garbage (%s): replaced', async (_name, content) => {
    await writeFile(lockPath, content);
    await age();
    const log = memoryLogger();
    await acquire({ logger: log.logger });
    expect(await firstLine()).toBe(String(process.pid));
    expect((await log.lines()).some((l) => l['event'] === 'state.lock_stale')).toBe(true);
  });

  it('an empty lock just created is one a starting stackd is writing: waited for, not replaced', async () => {
    const pid = await liveProcess();
    await writeFile(lockPath, '');
    setTimeout(() => void writeFile(lockPath, `${pid}\n`), 150);
    const error = await acquire({ youngMs: 5000 }).catch((e: unknown) => e);
    expect((error as Error).message).toBe(locked(pid));
  });

  it('an empty lock that stays empty is replaced once it is old enough', async () => {
    await writeFile(lockPath, '');
    const started = Date.now();
    await acquire({ youngMs: 400 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    expect(await firstLine()).toBe(String(process.pid));
  });

  it('a takeover in progress (the guard file held) is waited for', async () => {
    await writeFile(lockPath, `${await deadPid()}\n`);
    await writeFile(`${lockPath}.takeover`, '1\n');
    setTimeout(() => void rm(`${lockPath}.takeover`), 200);
    const started = Date.now();
    await acquire();
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(await firstLine()).toBe(String(process.pid));
    expect(await readdir(dir)).toEqual([LOCK_FILE]);
  });

  it('a guard file left by a stackd killed mid-takeover is removed once old', async () => {
    await writeFile(lockPath, `${await deadPid()}\n`);
    const guard = `${lockPath}.takeover`;
    await writeFile(guard, '1\n');
    const then = new Date(Date.now() - 60_000);
    await utimes(guard, then, then);
    await acquire();
    expect(await firstLine()).toBe(String(process.pid));
    expect(await readdir(dir)).toEqual([LOCK_FILE]);
  });

  it('release leaves a lock that is no longer ours alone', async () => {
    const lock = await acquire();
    const pid = await liveProcess();
    await rm(lockPath);
    await writeFile(lockPath, `${pid}\n`);
    lock.releaseSync();
    expect(await readFile(lockPath, 'utf8')).toBe(`${pid}\n`);
  });

  it('a dataDir that cannot be made: LockError naming it', async () => {
    await writeFile(join(dir, 'file'), '');
    const error = await acquire({ dataDir: join(dir, 'file', 'data') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LockError);
    expect((error as Error).message).toContain(join(dir, 'file', 'data'));
  });

  (PROC ? describe : describe.skip)('Linux: a pid reused by another process', () => {
    it('records the boot id and our start time on the second line', async () => {
      await acquire();
      const boot = (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
      expect(await readFile(lockPath, 'utf8')).toBe(
        `${process.pid}\n${boot} ${await startTime(process.pid)}\n`,
      );
    });

    it('the running owner (same boot, same start time) keeps it', async () => {
      const pid = await liveProcess();
      const boot = (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
      await writeFile(lockPath, `${pid}\n${boot} ${await startTime(pid)}\n`);
      await age();
      const error = await acquire().catch((e: unknown) => e);
      expect((error as Error).message).toBe(locked(pid));
    });

    it('written before a reboot (another boot id): replaced though the pid runs', async () => {
      const pid = await liveProcess();
      await writeFile(lockPath, `${pid}\n00000000-0000-0000-0000-000000000000 ${await startTime(pid)}\n`);
      await age();
      await acquire();
      expect(await firstLine()).toBe(String(process.pid));
    });

    it('the pid now belongs to a process started later (another start time): replaced', async () => {
      const pid = await liveProcess();
      const boot = (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
      await writeFile(lockPath, `${pid}\n${boot} 1\n`);
      await age();
      await acquire();
      expect(await firstLine()).toBe(String(process.pid));
    });
  });
});
