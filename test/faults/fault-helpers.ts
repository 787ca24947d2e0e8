/**
 * Shared pieces of the fault-injection suite: a slow stack, a refresh request, process and
 * memory probes, and the "no stack trace" check every fault case makes on stackd's output.
 */
import { readFile, readdir } from 'node:fs/promises';
import { expect } from '@jest/globals';
import type { Daemon } from '../helpers/daemon.js';
import { isAlive } from '../helpers/docker.js';

/** A service that takes ~2 s to become healthy: long enough to cut something off mid-apply. */
export function slowCompose(image: 1 | 2, seconds = 2): string {
  return [
    'services:',
    '  s:',
    `    image: stackd-test/busybox:${image}`,
    `    command: ["sh", "-c", "sleep ${seconds}; touch /tmp/ready; exec sleep 3600"]`,
    '    stop_grace_period: 1s',
    '    healthcheck:',
    '      test: ["CMD", "sh", "-c", "test -f /tmp/ready"]',
    '      interval: 500ms',
    '      retries: 40',
    '',
  ].join('\n');
}

/** `POST /api/v1/refresh` (loopback, no token needed): 202. */
export async function refresh(d: Daemon): Promise<void> {
  const r = await fetch(`${d.url}/api/v1/refresh`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
  });
  expect(r.status).toBe(202);
}

/** A V8/node stack frame line (`    at fn (file.js:1:2)`): stackd must never print one. */
const STACK_FRAME = /^\s+at .*(?:\(.*:\d+:\d+\)|:\d+:\d+)$/m;

export function expectNoStackTrace(text: string): void {
  const frame = STACK_FRAME.exec(text);
  expect(frame === null ? null : text).toBeNull();
}

/** The JSON log lines of a daemon, as one text (for the stack-trace check). */
export function logText(d: Daemon): string {
  return d.logs.map((l) => JSON.stringify(l)).join('\n');
}

/** Resident memory of a process, in MiB (`VmRSS` of /proc/<pid>/status). */
export async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for ${pid}`);
  return Number(kb) / 1024;
}

export interface ProcessInfo {
  readonly pid: number;
  readonly cmdline: string;
  /** Milliseconds since the process started (10 ms resolution). */
  readonly ageMs: number;
}

/** Live processes (not zombies) whose command line contains `marker`, other than this one. */
export async function processesWith(marker: string): Promise<ProcessInfo[]> {
  const found: ProcessInfo[] = [];
  const uptimeMs = Number((await readFile('/proc/uptime', 'utf8')).split(' ')[0]) * 1000;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    let cmdline: string;
    let stat: string;
    try {
      cmdline = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0').join(' ').trim();
      if (!cmdline.includes(marker)) continue;
      stat = await readFile(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // Field 22 (starttime, in clock ticks since boot; USER_HZ is 100 on Linux).
    const startTicks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    if (await isAlive(pid)) found.push({ pid, cmdline, ageMs: uptimeMs - startTicks * 10 });
  }
  return found;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
