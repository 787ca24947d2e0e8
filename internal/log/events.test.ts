import { readFile } from 'node:fs/promises';
import { describe, expect, it } from '@jest/globals';

import { LogEvent } from './events.js';

describe('LogEvent', () => {
  it('is exactly the README table of log events', async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(
      readme.indexOf('\n## Logs\n'),
      readme.indexOf('\n## ', readme.indexOf('\n## Logs\n') + 1),
    );
    const rows = section.split('\n').filter((line) => line.startsWith('| `'));
    const documented = rows.flatMap((row) =>
      [...(row.split('|')[1] ?? '').matchAll(/`([a-z_]+\.[a-z_]+)`/g)].map((m) => m[1]),
    );
    expect([...documented].sort()).toEqual(Object.values(LogEvent).sort());
  });

  it('names each event once', () => {
    const names = Object.values(LogEvent);
    expect(new Set(names).size).toBe(names.length);
  });
});
