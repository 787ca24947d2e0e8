/**
 * `dataDir/stackd.lock`: one stackd at a time reconciles a data directory. `stackd run` and
 * `stackd sync --once` take it before opening the state; read-only commands do not.
 *
 * The file holds the owner's pid (first line) and, on Linux, a second line with the boot id and
 * the owner's start time, so that a pid reused by another process — after a reboot, or in a
 * container where stackd gets the same low pid every time — is not taken for the owner.
 *
 * Taking it: create the file exclusively (`open(path, 'wx')`) and write the content. If it exists:
 * an owner still running → DataDirLockedError; an owner gone, or content that is no lock at all
 * (empty or garbage, once older than `youngMs`) → a stale lock, replaced with a warning. Replacing
 * happens under a guard file (`stackd.lock.takeover`, created exclusively): the guard's holder
 * checks the lock is still the stale one it judged, writes a temp file, renames it over the lock
 * and reads it back — so of several stackds starting over one stale lock, exactly one gets it.
 *
 * Over 300 lines on purpose: taking, judging and replacing the lock are one protocol whose steps
 * depend on each other's checks; read top to bottom, it is the proof that only one stackd wins.
 */
import { readFileSync, statSync, unlinkSync } from 'node:fs';
import { mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { layoutOf } from '../layout/index.js';
import { writeFileAtomic } from '../../pkg/atomicfile/index.js';
import { realClock, sleep, type Clock } from '../../pkg/clock/index.js';
import type { Logger } from '../log/index.js';
import { processIdentity } from '../proc/index.js';
import { LogEvent } from '../log/index.js';

/** The lock's file name in `dataDir` (`layout.lockFile`). */
export const LOCK_FILE = basename(layoutOf('/').lockFile);

/**
 * Another live stackd holds the lock: `another stackd (pid N) is using dataDir D (it holds
 * D/stackd.lock); stop it first`. The CLI exits 5 ("cannot start"), which the systemd unit does
 * not restart on: a second stackd would only fail again.
 */
export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLockedError';
  readonly exitCode = 5;
  readonly pid: number;
  readonly dataDir: string;
  /** The lock file the other stackd holds. */
  readonly path: string;

  constructor(pid: number, dataDir: string) {
    const path = layoutOf(dataDir).lockFile;
    super(`another stackd (pid ${pid}) is using dataDir ${dataDir} (it holds ${path}); stop it first`);
    this.pid = pid;
    this.dataDir = dataDir;
    this.path = path;
  }
}

/** The lock could not be taken for another reason (permissions, a read-only file system, …). */
export class LockError extends Error {
  override readonly name = 'LockError';
}

export interface DataDirLock {
  readonly path: string;
  /** Removes the lock file if it is still this one. Idempotent. */
  release(): Promise<void>;
  /** The same, synchronously (for a process `exit` handler). */
  releaseSync(): void;
}

export interface AcquireOptions {
  readonly dataDir: string;
  readonly logger: Logger;
  /**
   * An empty or unparsable lock file younger than this may be one a starting stackd has just
   * created and not yet written: wait for it rather than replace it. @default 2000
   */
  readonly youngMs?: number;
  /** Wall-clock time (compared with file mtimes) and waits. @default realClock */
  readonly clock?: Clock;
}

/** Lock paths this process holds or is taking (a second take in the same process fails). */
const held = new Set<string>();

interface Holder {
  readonly pid: number;
  readonly boot?: string;
  readonly start?: string;
}

interface Found {
  readonly text: string;
  readonly ino: number;
  readonly dev: number;
  readonly mtimeMs: number;
}

/** Takes `dataDir/stackd.lock` or throws DataDirLockedError (or LockError). */
export async function acquireDataDirLock(options: AcquireOptions): Promise<DataDirLock> {
  const dataDir = resolve(options.dataDir);
  const path = layoutOf(dataDir).lockFile;
  if (held.has(path)) throw new DataDirLockedError(process.pid, dataDir);
  held.add(path);
  try {
    return await take(path, dataDir, options);
  } catch (error) {
    held.delete(path);
    throw error;
  }
}

async function take(path: string, dataDir: string, options: AcquireOptions): Promise<DataDirLock> {
  const { logger } = options;
  const youngMs = options.youngMs ?? 2000;
  const clock = options.clock ?? realClock;
  /** File mtimes are wall-clock times. */
  const wallMs = (): number => clock.date().getTime();
  try {
    await mkdir(dataDir, { recursive: true });
  } catch (error) {
    throw new LockError(`cannot create dataDir ${dataDir}: ${reasonOf(error)}`, { cause: error });
  }
  const me = await processIdentity(process.pid);
  const content = `${process.pid}\n${me === undefined ? '' : `${me.boot} ${me.start}\n`}`;
  const deadline = wallMs() + youngMs + 10_000;
  let garbageSince: number | undefined;
  while (wallMs() < deadline) {
    const created = await create(path, content, logger);
    if (created !== undefined) return lockOf(path, created);
    const found = await look(path);
    if (found === undefined) continue; // released meanwhile
    const holder = parse(found.text);
    if (holder !== undefined && (await alive(holder))) throw new DataDirLockedError(holder.pid, dataDir);
    if (holder === undefined) {
      // Maybe a stackd between its create and its write: give it `youngMs`, counted from the
      // file's mtime or from when we first saw it, whichever is longer ago (the clock may jump).
      garbageSince ??= wallMs();
      if (Math.max(wallMs() - found.mtimeMs, wallMs() - garbageSince) < youngMs) {
        await sleep(clock, 50);
        continue;
      }
    } else {
      garbageSince = undefined;
    }
    const taken = await withGuard(path, wallMs(), () => replace(path, found, content));
    if (taken === 'busy' || taken === 'changed') {
      if (taken === 'busy') await sleep(clock, 20);
      continue;
    }
    const was =
      holder === undefined
        ? `it held ${JSON.stringify(found.text.slice(0, 40))}`
        : `pid ${holder.pid} is no longer running`;
    if (taken === 'nospace') {
      logger.warn(
        `cannot replace the stale lock ${path} (${was}): no space left on device; going on without it`,
        {
          event: LogEvent.stateLockFailed,
          path,
        },
      );
      return lockOf(path, { ino: -1, dev: -1 });
    }
    logger.warn(`replaced a stale lock in dataDir ${dataDir}: ${was}`, {
      event: LogEvent.stateLockStale,
      path,
    });
    return lockOf(path, taken);
  }
  throw new LockError(`cannot take the lock ${path}: it keeps changing`);
}

interface Created {
  readonly ino: number;
  readonly dev: number;
}

/** Creates the lock exclusively with `content`; undefined if it exists (or was taken from under us). */
async function create(path: string, content: string, logger: Logger): Promise<Created | undefined> {
  let handle;
  try {
    handle = await open(path, 'wx', 0o644);
  } catch (error) {
    if (codeOf(error) === 'EEXIST') return undefined;
    if (isNoSpace(error)) {
      logger.warn(`cannot create the lock ${path}: ${reasonOf(error)}; going on without it`, {
        event: LogEvent.stateLockFailed,
        path,
      });
      return { ino: -1, dev: -1 };
    }
    throw new LockError(`cannot create the lock ${path}: ${reasonOf(error)}`, { cause: error });
  }
  let created: Created;
  try {
    const stats = await handle.stat();
    created = { ino: stats.ino, dev: stats.dev };
    try {
      await handle.writeFile(content);
      await handle.sync();
    } catch (error) {
      if (!isNoSpace(error)) throw error;
      // A full disk must not stop stackd (the state is then kept in memory): the empty file
      // still holds the lock, only without a pid in it.
      logger.warn(`cannot write the pid into the lock ${path}: ${reasonOf(error)}`, {
        event: LogEvent.stateLockFailed,
        path,
      });
    }
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(path, { force: true }).catch(() => undefined);
    throw new LockError(`cannot write the lock ${path}: ${reasonOf(error)}`, { cause: error });
  }
  await handle.close();
  // A stackd that saw our file empty for longer than `youngMs` may have replaced it.
  const now = await stat(path).catch(() => undefined);
  return now?.ino === created.ino && now.dev === created.dev ? created : undefined;
}

/**
 * Replaces the stale lock `found` by ours, under the takeover guard: only if the lock is still
 * exactly `found` (else 'changed'), by writing a temp file and renaming it over the lock, then
 * reading it back to confirm it holds our content.
 */
async function replace(
  path: string,
  found: Found,
  content: string,
): Promise<Created | 'changed' | 'nospace'> {
  const again = await look(path);
  if (again?.ino !== found.ino || again.dev !== found.dev || again.text !== found.text) return 'changed';
  try {
    await writeFileAtomic(path, content, { fsync: true });
  } catch (error) {
    if (isNoSpace(error)) return 'nospace';
    throw new LockError(`cannot replace the stale lock ${path}: ${reasonOf(error)}`, { cause: error });
  }
  const mine = await look(path);
  return mine?.text === content ? { ino: mine.ino, dev: mine.dev } : 'changed';
}

/**
 * Runs `fn` holding `<lock>.takeover` (created exclusively), so that of several stackds replacing
 * one stale lock only one at a time looks at it and replaces it; 'busy' if another holds the
 * guard. A guard older than GUARD_STALE_MS was left by a stackd killed mid-takeover: removed.
 */
async function withGuard<T>(path: string, nowMs: number, fn: () => Promise<T>): Promise<T | 'busy'> {
  const guard = `${path}.takeover`;
  let handle;
  try {
    handle = await open(guard, 'wx', 0o644);
  } catch (error) {
    if (codeOf(error) !== 'EEXIST') {
      if (isNoSpace(error)) return fn(); // cannot even create an empty file: nothing better to do
      throw new LockError(`cannot create ${guard}: ${reasonOf(error)}`, { cause: error });
    }
    const old = await stat(guard).catch(() => undefined);
    if (old !== undefined && nowMs - old.mtimeMs > GUARD_STALE_MS) await rm(guard, { force: true });
    return 'busy';
  }
  const ours = await handle.stat();
  await handle.writeFile(`${process.pid}\n`).catch(() => undefined);
  await handle.close();
  try {
    return await fn();
  } finally {
    const now = await stat(guard).catch(() => undefined);
    if (now?.ino === ours.ino && now.dev === ours.dev) await rm(guard, { force: true });
  }
}

const GUARD_STALE_MS = 10_000;

function lockOf(path: string, created: Created): DataDirLock {
  held.add(path);
  let released = false;
  const releaseSync = (): void => {
    if (released) return;
    released = true;
    held.delete(path);
    if (created.ino === -1) return;
    try {
      const stats = statSync(path);
      if (stats.ino !== created.ino || stats.dev !== created.dev) return;
      const pid = parse(readFileSync(path, 'utf8'))?.pid;
      if (pid === undefined || pid === process.pid) unlinkSync(path);
    } catch {
      // gone already, or not ours to remove
    }
  };
  return {
    path,
    releaseSync,
    release() {
      releaseSync();
      return Promise.resolve();
    },
  };
}

async function look(path: string): Promise<Found | undefined> {
  try {
    const stats = await stat(path);
    const text = await readFile(path, 'utf8');
    return { text, ino: stats.ino, dev: stats.dev, mtimeMs: stats.mtimeMs };
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return undefined;
    throw new LockError(`cannot read the lock ${path}: ${reasonOf(error)}`, { cause: error });
  }
}

/** `12345\n<boot id> <start time>\n`, the second line optional; undefined if it is no lock. */
function parse(text: string): Holder | undefined {
  const [first, second] = text.split('\n');
  if (first === undefined || !/^[1-9][0-9]{0,9}$/.test(first.trim())) return undefined;
  const pid = Number(first.trim());
  if (pid > 2 ** 31 - 1) return undefined;
  const m = /^(\S+) ([0-9]+)$/.exec(second?.trim() ?? '');
  return m?.[1] !== undefined && m[2] !== undefined ? { pid, boot: m[1], start: m[2] } : { pid };
}

/** Whether the lock's owner still runs. */
async function alive(holder: Holder): Promise<boolean> {
  // Our own pid: either we hold it (a second take in this process) or a previous process that
  // had our pid left it (a container restarted, a reboot).
  if (holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    if (codeOf(error) !== 'EPERM') return false; // ESRCH: no such process
  }
  const now = await processIdentity(holder.pid);
  if (now === undefined) return true; // no /proc: trust the pid
  if (now.state === 'Z' || now.state === 'X') return false; // exited, not yet reaped
  if (holder.boot !== undefined && holder.boot !== now.boot) return false; // written before a reboot
  if (holder.start !== undefined && holder.start !== now.start) return false; // the pid was reused
  return true;
}

function codeOf(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
}

function isNoSpace(error: unknown): boolean {
  const code = codeOf(error);
  return code === 'ENOSPC' || code === 'EDQUOT';
}

const REASONS: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOTDIR: 'not a directory',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
};

function reasonOf(error: unknown): string {
  const code = codeOf(error);
  const known = typeof code === 'string' ? REASONS[code] : undefined;
  return known ?? (error instanceof Error ? error.message : String(error));
}
