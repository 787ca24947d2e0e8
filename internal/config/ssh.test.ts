import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './index.js';

const URL = 'ssh://git@git.example.com:2222/ops/stacks.git';

describe('source.auth.sshKeyFile and source.auth.knownHostsFile', () => {
  let dir: string;
  let key: string;
  let knownHosts: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stackd-ssh-config-'));
    key = join(dir, 'id_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'deploy', '-f', key]);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'a passphrase', '-f', join(dir, 'locked')]);
    execFileSync('ssh-keygen', [
      '-q',
      '-t',
      'rsa',
      '-b',
      '2048',
      '-m',
      'PEM',
      '-N',
      'pw-12345',
      '-f',
      join(dir, 'pem'),
    ]);
    knownHosts = join(dir, 'known_hosts');
    const pub = (await readFile(`${key}.pub`, 'utf8')).split(' ').slice(0, 2).join(' ');
    await writeFile(knownHosts, `# made by ssh-keyscan\n[git.example.com]:2222 ${pub}\n`);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const load = (env: Record<string, string>, requireSource = true) =>
    loadConfig({ env: { STACKD_SOURCE_URL: URL, ...env }, requireSource });
  const message = (env: Record<string, string>, requireSource = true): string => {
    try {
      load(env, requireSource);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as ConfigError).message;
    }
    throw new Error('expected a ConfigError');
  };

  it('are read from the environment, relative paths made absolute, and accepted', () => {
    const config = load({ STACKD_SOURCE_SSH_KEY_FILE: key, STACKD_SOURCE_KNOWN_HOSTS_FILE: knownHosts });
    expect(config.source.auth).toMatchObject({ sshKeyFile: key, knownHostsFile: knownHosts });
    const cwd = load({ STACKD_SOURCE_SSH_KEY_FILE: 'k', STACKD_SOURCE_KNOWN_HOSTS_FILE: 'kh' }, false);
    expect(cwd.source.auth.sshKeyFile).toBe(join(process.cwd(), 'k'));
  });

  it('are both required for an SSH URL; the knownHostsFile message says how to make one', () => {
    expect(message({ STACKD_SOURCE_KNOWN_HOSTS_FILE: knownHosts })).toMatch(
      /^source\.auth\.sshKeyFile \(STACKD_SOURCE_SSH_KEY_FILE\): required for the SSH source ssh:\/\/git@git\.example\.com:2222\/ops\/stacks\.git/,
    );
    expect(message({ STACKD_SOURCE_SSH_KEY_FILE: key })).toMatch(
      /^source\.auth\.knownHostsFile \(STACKD_SOURCE_KNOWN_HOSTS_FILE\): required for the SSH source .*stackd never trusts an unknown host key.*ssh-keyscan -p 2222 git\.example\.com > /,
    );
  });

  it('are refused with an http(s) URL, and a token with an SSH one', () => {
    expect(
      message({ STACKD_SOURCE_URL: 'https://git.example.com/r.git', STACKD_SOURCE_SSH_KEY_FILE: key }),
    ).toMatch(/^source\.auth\.sshKeyFile \(STACKD_SOURCE_SSH_KEY_FILE\): only used by SSH sources/);
    expect(
      message({
        STACKD_SOURCE_SSH_KEY_FILE: key,
        STACKD_SOURCE_KNOWN_HOSTS_FILE: knownHosts,
        STACKD_SOURCE_TOKEN: 'tok-0123456789abcdef',
      }),
    ).toMatch(/^source\.auth\.token \(STACKD_SOURCE_TOKEN\): only used by http\(s\) sources/);
  });

  it('a command that fetches reads the files: missing, public, passphrase, too open, empty known_hosts', async () => {
    const both = (k: string, kh = knownHosts) => ({
      STACKD_SOURCE_SSH_KEY_FILE: k,
      STACKD_SOURCE_KNOWN_HOSTS_FILE: kh,
    });
    expect(message(both(join(dir, 'nope')))).toMatch(
      /sshKeyFile \(STACKD_SOURCE_SSH_KEY_FILE\): cannot read .*nope \(ENOENT\)/,
    );
    expect(message(both(`${key}.pub`))).toMatch(/is a public key: expected the private key/);
    expect(message(both(join(dir, 'locked')))).toMatch(
      /is protected by a passphrase, which stackd cannot type/,
    );
    expect(message(both(join(dir, 'pem')))).toMatch(/is protected by a passphrase/);
    expect(message(both(knownHosts))).toMatch(/holds no private key/);
    await chmod(key, 0o644);
    try {
      expect(message(both(key))).toMatch(
        /can be read by other users \(mode 644\), so ssh would refuse it: chmod 600/,
      );
    } finally {
      await chmod(key, 0o600);
    }
    const empty = join(dir, 'empty_known_hosts');
    await writeFile(empty, '# nothing\n\n');
    expect(message(both(key, empty))).toMatch(
      /knownHostsFile \(STACKD_SOURCE_KNOWN_HOSTS_FILE\): .*empty_known_hosts holds no host key: .*ssh-keyscan -p 2222 git\.example\.com >/,
    );
    // A command that does not fetch (`stackd status --config …`, `stackd config`) checks none of
    // it: the unit may give the key's path to the daemon alone.
    expect(load(both(join(dir, 'nope')), false).source.auth.sshKeyFile).toBe(join(dir, 'nope'));
    expect(load({}, false).source.url).toBe(URL);
    expect(
      load({ STACKD_SOURCE_URL: 'https://h/r.git', STACKD_SOURCE_SSH_KEY_FILE: key }, false).source.url,
    ).toBe('https://h/r.git');
  });

  it('a key file the message never quotes', async () => {
    const text = await readFile(key, 'utf8');
    const body = text.split('\n')[1] ?? '';
    expect(body.length).toBeGreaterThan(20);
    await chmod(key, 0o640);
    try {
      expect(
        message({ STACKD_SOURCE_SSH_KEY_FILE: key, STACKD_SOURCE_KNOWN_HOSTS_FILE: knownHosts }),
      ).not.toContain(body);
    } finally {
      await chmod(key, 0o600);
    }
  });

  it('SSH URLs: both forms accepted; a password or a missing path refused, the password not echoed', () => {
    const ok = { STACKD_SOURCE_SSH_KEY_FILE: key, STACKD_SOURCE_KNOWN_HOSTS_FILE: knownHosts };
    expect(load({ ...ok, STACKD_SOURCE_URL: 'git@github.com:org/stacks.git' }).source.url).toBe(
      'git@github.com:org/stacks.git',
    );
    const password = message({ ...ok, STACKD_SOURCE_URL: 'ssh://git:hunter22@host/r.git' });
    expect(password).toContain('source.url (STACKD_SOURCE_URL): expected an SSH URL without a password');
    expect(password).not.toContain('hunter22');
    expect(message({ ...ok, STACKD_SOURCE_URL: 'ssh://git@host' })).toContain('with a repository path');
  });
});
