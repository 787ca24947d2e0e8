/**
 * journald: is a file descriptor connected to the journal, and the syslog priority prefix of a
 * level. Under systemd, `StandardError=journal` connects stderr to a journald stream and sets
 * `JOURNAL_STREAM=<device>:<inode>` (decimal) of that stream; a process whose stderr has the same
 * device and inode writes to the journal (systemd.exec(5), "the documented way"; a child whose
 * stderr was redirected elsewhere inherits the variable but not the stream, hence the comparison).
 * journald's stream reader parses a leading `<N>` on each line as the line's priority
 * (`SyslogLevelPrefix=`, default yes), so `journalctl -p warning` sees stackd's warnings.
 */
import { fstatSync } from 'node:fs';
import type { LogLevel } from './events.js';

/** syslog(3) priorities of stackd's levels: LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG. */
export const SYSLOG_PRIORITY: Readonly<Record<LogLevel, number>> = {
  error: 3,
  warn: 4,
  info: 6,
  debug: 7,
};

/** `<3>` for error, `<4>` warn, `<6>` info, `<7>` debug; an unknown level is info. */
export function priorityPrefix(level: string): string {
  const priority = (SYSLOG_PRIORITY as Readonly<Record<string, number>>)[level] ?? SYSLOG_PRIORITY.info;
  return `<${priority}>`;
}

/** `JOURNAL_STREAM`'s device and inode, or undefined when unset or malformed. */
export function parseJournalStream(value: string | undefined): { dev: bigint; ino: bigint } | undefined {
  const match = /^(\d+):(\d+)$/.exec(value?.trim() ?? '');
  if (match?.[1] === undefined || match[2] === undefined) return undefined;
  return { dev: BigInt(match[1]), ino: BigInt(match[2]) };
}

/**
 * True when `fd` is the journal stream `JOURNAL_STREAM` names (same device and inode). False when
 * the variable is absent or malformed, or the descriptor cannot be inspected.
 * @param fd the descriptor stackd logs to. @default 2 (stderr)
 */
export function isJournalStream(env: Readonly<Record<string, string | undefined>>, fd = 2): boolean {
  const stream = parseJournalStream(env['JOURNAL_STREAM']);
  if (stream === undefined) return false;
  try {
    const stat = fstatSync(fd, { bigint: true });
    return stat.dev === stream.dev && stat.ino === stream.ino;
  } catch {
    return false;
  }
}
