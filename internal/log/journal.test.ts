import { closeSync, fstatSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { isJournalStream, parseJournalStream, priorityPrefix, SYSLOG_PRIORITY } from './index.js';

describe('priorityPrefix', () => {
  it.each([
    ['error', '<3>'],
    ['warn', '<4>'],
    ['info', '<6>'],
    ['debug', '<7>'],
    ['verbose', '<6>'],
  ])('%s → %s', (level, prefix) => {
    expect(priorityPrefix(level)).toBe(prefix);
  });

  it('covers every level stackd logs at', () => {
    expect(Object.keys(SYSLOG_PRIORITY).sort()).toEqual(['debug', 'error', 'info', 'warn']);
  });
});

describe('parseJournalStream', () => {
  it('reads <dev>:<ino> in decimal, beyond 2^53 too', () => {
    expect(parseJournalStream('8:12345')).toEqual({ dev: 8n, ino: 12345n });
    expect(parseJournalStream('9007199254740993:1')).toEqual({ dev: 9007199254740993n, ino: 1n });
  });

  it.each([undefined, '', '8', '8:', ':1', 'a:b', '8:1:2', '-1:2'])('ignores %p', (value) => {
    expect(parseJournalStream(value)).toBeUndefined();
  });
});

describe('isJournalStream', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stackd-journal-'));
  const fd = openSync(join(dir, 'stream'), 'w');
  const other = openSync(join(dir, 'other'), 'w');
  const stat = fstatSync(fd, { bigint: true });
  afterAll(() => {
    closeSync(fd);
    closeSync(other);
    rmSync(dir, { recursive: true, force: true });
  });

  it('is true when JOURNAL_STREAM names the descriptor (same device and inode)', () => {
    expect(isJournalStream({ JOURNAL_STREAM: `${stat.dev}:${stat.ino}` }, fd)).toBe(true);
  });

  it('is false for another file: the variable was inherited, the stream redirected', () => {
    expect(isJournalStream({ JOURNAL_STREAM: `${stat.dev}:${stat.ino}` }, other)).toBe(false);
    expect(isJournalStream({ JOURNAL_STREAM: `${stat.dev}:${stat.ino + 1n}` }, fd)).toBe(false);
    expect(isJournalStream({ JOURNAL_STREAM: `${stat.dev + 1n}:${stat.ino}` }, fd)).toBe(false);
  });

  it('is false without the variable, with a malformed one, or a closed descriptor', () => {
    expect(isJournalStream({}, fd)).toBe(false);
    expect(isJournalStream({ JOURNAL_STREAM: 'journal' }, fd)).toBe(false);
    expect(isJournalStream({ JOURNAL_STREAM: `${stat.dev}:${stat.ino}` }, 987654)).toBe(false);
  });
});
