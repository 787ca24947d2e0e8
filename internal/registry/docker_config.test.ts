import { mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { RegistryAuthError, type RegistryLogin } from './auth_file.js';
import { CONFIG_FILE, MANAGED_FILE, syncDockerLogins } from './docker_config.js';

const login = (user: string, password: string): RegistryLogin => ({
  auth: Buffer.from(`${user}:${password}`).toString('base64'),
});

describe('syncDockerLogins', () => {
  let dir: string;
  const config = (): string => join(dir, CONFIG_FILE);
  const read = async (): Promise<Record<string, unknown>> =>
    JSON.parse(await readFile(config(), 'utf8')) as Record<string, unknown>;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stackd-docker-config-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('touches nothing when there are no logins and stackd never wrote any', async () => {
    expect(await syncDockerLogins(dir, new Map())).toEqual({
      written: [],
      removed: [],
      replaced: [],
      changed: false,
    });
    expect(await readdir(dir)).toEqual([]);
    await writeFile(config(), 'not even json');
    await syncDockerLogins(dir, new Map());
    expect(await readFile(config(), 'utf8')).toBe('not even json');
  });

  it('writes the logins into a new config.json, 0600, and records their registries (names only)', async () => {
    const result = await syncDockerLogins(dir, new Map([['localhost:5000', login('u', 'secret-pw')]]));
    expect(result).toEqual({ written: ['localhost:5000'], removed: [], replaced: [], changed: true });
    expect(await read()).toEqual({ auths: { 'localhost:5000': login('u', 'secret-pw') } });
    expect((await stat(config())).mode & 0o777).toBe(0o600);
    const managed = await readFile(join(dir, MANAGED_FILE), 'utf8');
    expect(JSON.parse(managed)).toEqual({ registries: ['localhost:5000'] });
    expect(managed).not.toContain(login('u', 'secret-pw').auth);
    // Again, unchanged: not rewritten, not changed.
    const before = (await stat(config())).mtimeMs;
    expect(
      (await syncDockerLogins(dir, new Map([['localhost:5000', login('u', 'secret-pw')]]))).changed,
    ).toBe(false);
    expect((await stat(config())).mtimeMs).toBe(before);
    // Only the temp-free pair of files is left.
    expect((await readdir(dir)).sort()).toEqual([CONFIG_FILE, MANAGED_FILE]);
  });

  it('keeps hand-made logins and other keys, replaces a hand-made login of a registry it names (reported), and removes only its own', async () => {
    await writeFile(
      config(),
      JSON.stringify({
        auths: { 'by-hand.example': login('h', 'hand-pw'), 'both.example': login('h', 'old-pw') },
        psFormat: 'table',
      }),
      { mode: 0o644 },
    );
    const first = await syncDockerLogins(
      dir,
      new Map([
        ['both.example', login('f', 'file-pw')],
        ['mine.example', login('m', 'mine-pw')],
      ]),
    );
    expect(first).toEqual({
      written: ['both.example', 'mine.example'],
      removed: [],
      replaced: ['both.example'],
      changed: true,
    });
    expect(await read()).toEqual({
      auths: {
        'by-hand.example': login('h', 'hand-pw'),
        'both.example': login('f', 'file-pw'),
        'mine.example': login('m', 'mine-pw'),
      },
      psFormat: 'table',
    });
    expect((await stat(config())).mode & 0o777).toBe(0o600);
    // The auth file drops mine.example and changes both.example's password: stackd's own.
    const second = await syncDockerLogins(dir, new Map([['both.example', login('f', 'new-pw')]]));
    expect(second).toEqual({
      written: ['both.example'],
      removed: ['mine.example'],
      replaced: [],
      changed: true,
    });
    // The auth file goes empty: stackd's logins go, the hand-made one stays.
    const third = await syncDockerLogins(dir, new Map());
    expect(third).toEqual({ written: [], removed: ['both.example'], replaced: [], changed: true });
    expect(await read()).toEqual({ auths: { 'by-hand.example': login('h', 'hand-pw') }, psFormat: 'table' });
    expect((await syncDockerLogins(dir, new Map())).changed).toBe(false);
  });

  it('refuses a config.json it cannot merge into, without quoting it', async () => {
    await writeFile(config(), '{"auths": {"r": {"auth": "c2VjcmV0LXB3"');
    const error = await syncDockerLogins(dir, new Map([['r', login('u', 'pw-1234')]])).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RegistryAuthError);
    expect((error as Error).message).toBe(
      `${config()} is not valid JSON, so the logins of registry.authFile cannot be merged into it: fix it or remove it (docker login writes it again)`,
    );
    await rm(config());
    await mkdir(join(dir, 'elsewhere'));
    await symlink(join(dir, 'elsewhere', 'config.json'), config());
    await expect(syncDockerLogins(dir, new Map([['r', login('u', 'pw-1234')]]))).rejects.toThrow(
      /is a symbolic link/,
    );
  });
});
