/**
 * Who a pid is: the boot id and the process's start time (Linux /proc), so that a pid recorded
 * in a file (the dataDir lock, a compose child) is not mistaken for another process that got the
 * same pid later — after a reboot, or in a container where stackd gets the same pid every time.
 */
import { readFile } from 'node:fs/promises';

export interface ProcessIdentity {
  /** `/proc/sys/kernel/random/boot_id`. */
  readonly boot: string;
  /** Start time in clock ticks since boot (field 22 of `/proc/<pid>/stat`). */
  readonly start: string;
  /** State letter (`R`, `S`, `Z` for a zombie, …). */
  readonly state: string;
}

/** Linux: the boot id, start time and state of `pid`; undefined without /proc or such a process. */
export async function processIdentity(pid: number): Promise<ProcessIdentity | undefined> {
  try {
    const [boot, stat] = await Promise.all([
      readFile('/proc/sys/kernel/random/boot_id', 'utf8'),
      readFile(`/proc/${pid}/stat`, 'utf8'),
    ]);
    // `pid (comm) state ppid …`: comm may hold spaces and parentheses; starttime is field 22.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = fields[0];
    const start = fields[19];
    if (state === undefined || start === undefined || !/^[0-9]+$/.test(start)) return undefined;
    return { boot: boot.trim(), start, state };
  } catch {
    return undefined;
  }
}
