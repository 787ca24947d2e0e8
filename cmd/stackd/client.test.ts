/** The CLI's API token: the configured one wins; else the installed token file when readable. */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../internal/config/index.js';
import { isLoopbackUrl, tokenOf } from './client.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stackd-token-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('tokenOf', () => {
  it('reads the installed token file (one trailing newline dropped) when none is configured', async () => {
    const file = join(dir, 'api-token');
    await writeFile(file, 'from-the-file-0123\n');
    await chmod(file, 0o600);
    expect(tokenOf(loadConfig({ env: {} }), file)).toBe('from-the-file-0123');
  });

  it('the configured token wins over the file', async () => {
    const file = join(dir, 'api-token');
    await writeFile(file, 'from-the-file-0123\n');
    expect(tokenOf(loadConfig({ env: { STACKD_API_TOKEN: 'configured-token-0123' } }), file)).toBe(
      'configured-token-0123',
    );
  });

  it('no token when the file is absent or unreadable', () => {
    expect(tokenOf(loadConfig({ env: {} }), join(dir, 'missing'))).toBe('');
    expect(tokenOf(loadConfig({ env: {} }), dir)).toBe(''); // a directory: EISDIR
  });
});

describe('isLoopbackUrl (where the installed token may go)', () => {
  it.each([
    ['http://127.0.0.1:8700', true],
    ['http://127.8.9.10:1', true],
    ['http://[::1]:8700', true],
    ['http://localhost:8700', true],
    ['http://10.0.0.5:8700', false],
    ['http://stackd.example.test:8700', false],
    ['http://127.0.0.1.example.test:8700', false],
    ['not a url', false],
  ])('%s → %s', (url, expected) => {
    expect(isLoopbackUrl(url)).toBe(expected);
  });
});
