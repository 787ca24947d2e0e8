/**
 * The compose processes stackd has running, one file each under `dataDir/children/<pid>.json`
 * (pid, boot id and start time, project, verb). Compose runs in its own process group, so a
 * `kill -9` of stackd (or a crash outside systemd's cgroup) leaves it running, racing the next
 * stackd on the same project. At start, the next stackd reaps every recorded group whose leader
 * is still that very process, and forgets the rest.
 */
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { processIdentity } from '../proc/index.js';
import { killGroup } from './process.js';
import { LogEvent } from '../log/index.js';
import type { LogMeta } from '../log/events.js';

export interface ChildRecord {
  readonly pid: number;
  readonly boot: string;
  readonly start: string;
  readonly project: string;
  readonly command: string;
}

export interface ReapLogger {
  warn(message: string, meta: LogMeta): unknown;
}

export class ChildRegistry {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** Record a child just started (before waiting for it). Never throws: a full disk only costs the record. */
  async add(pid: number, project: string, command: string): Promise<void> {
    const id = await processIdentity(pid);
    if (id === undefined) return; // gone already, or no /proc
    const record: ChildRecord = { pid, boot: id.boot, start: id.start, project, command };
    try {
      await mkdir(this.#dir, { recursive: true });
      await writeFile(this.#file(pid), `${JSON.stringify(record)}\n`);
    } catch {
      // best effort
    }
  }

  async remove(pid: number): Promise<void> {
    await rm(this.#file(pid), { force: true }).catch(() => undefined);
  }

  /**
   * SIGKILL the process group of every recorded child still running (the same process: boot
   * id and start time match), then forget every record. Returns what was reaped.
   */
  async reap(logger: ReapLogger): Promise<ChildRecord[]> {
    let names: string[];
    try {
      names = await readdir(this.#dir);
    } catch {
      return [];
    }
    const reaped: ChildRecord[] = [];
    for (const name of names) {
      const path = join(this.#dir, name);
      const record = await readRecord(path);
      if (record !== undefined) {
        const now = await processIdentity(record.pid);
        if (
          now !== undefined &&
          now.boot === record.boot &&
          now.start === record.start &&
          now.state !== 'Z'
        ) {
          killGroup(record.pid);
          reaped.push(record);
          logger.warn(
            `killed compose ${record.command} of project ${record.project} (pid ${record.pid}), left running by a stackd that did not stop cleanly`,
            {
              event: LogEvent.composeReaped,
              pid: record.pid,
              project: record.project,
              command: record.command,
            },
          );
        }
      }
      await rm(path, { force: true, recursive: true }).catch(() => undefined);
    }
    return reaped;
  }

  #file(pid: number): string {
    return join(this.#dir, `${pid}.json`);
  }
}

async function readRecord(path: string): Promise<ChildRecord | undefined> {
  try {
    const raw = JSON.parse(await readFile(path, 'utf8')) as Partial<ChildRecord>;
    if (
      typeof raw.pid === 'number' &&
      Number.isSafeInteger(raw.pid) &&
      raw.pid > 1 &&
      typeof raw.boot === 'string' &&
      typeof raw.start === 'string' &&
      typeof raw.project === 'string' &&
      typeof raw.command === 'string'
    ) {
      return raw as ChildRecord;
    }
  } catch {
    // not a record: forgotten
  }
  return undefined;
}
