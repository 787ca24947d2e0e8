import { describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeSshFailure, fetchArgs, findSshPrograms, sshCommand, SshFetchError } from './git_ssh.js';
import { SourceError } from './errors.js';
import { parseSshUrl, type SshUrl } from './ssh_url.js';

const remote = parseSshUrl('ssh://git@git.example.com:2222/ops/stacks.git') as SshUrl;
const auth = {
  keyFile: '/run/credentials/stackd.service/ssh-key',
  knownHostsFile: '/etc/stackd/known_hosts',
};
const describe_ = (stderr: string) => describeSshFailure(stderr, { remote, auth, branch: 'main' });
const BOILERPLATE =
  'fatal: Could not read from remote repository.\n\nPlease make sure you have the correct access rights\nand the repository exists.';

describe('the ssh command and git argv', () => {
  it('name the key and known_hosts through the environment only, and pin every option', () => {
    const command = sshCommand('/usr/bin/ssh', 30);
    expect(command).toContain("'-oIdentityFile=${STACKD_SOURCE_SSH_KEY_FILE}'");
    expect(command).toContain("'-oUserKnownHostsFile=${STACKD_SOURCE_KNOWN_HOSTS_FILE}'");
    for (const option of [
      'StrictHostKeyChecking=yes',
      'GlobalKnownHostsFile=/dev/null',
      'BatchMode=yes',
      'IdentitiesOnly=yes',
      'IdentityAgent=none',
      'ConnectTimeout=30',
    ]) {
      expect(command).toContain(`'-o${option}'`);
    }
    expect(command.startsWith("'/usr/bin/ssh' -F /dev/null ")).toBe(true);
    expect(command).not.toContain(auth.keyFile);
  });

  it('git gets the URL on the command line (no remote), one forced refspec, nothing that writes the config', () => {
    const args = fetchArgs(remote.url, 'main');
    expect(args.slice(-3)).toEqual(['--', remote.url, '+refs/heads/main:refs/heads/main']);
    expect(args).toContain('--no-write-fetch-head');
    expect(args).toContain('core.hooksPath=/dev/null');
    expect(args).toContain('core.logAllRefUpdates=false');
    expect(args.join(' ')).not.toMatch(/remote add|config|--set/);
  });

  it('git and ssh are found on PATH, never inside an untrusted directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stackd-ssh-which-'));
    try {
      await symlink('/usr/bin/git', join(dir, 'git'));
      await symlink('/usr/bin/ssh', join(dir, 'ssh'));
      const found = await findSshPrograms([dir], { PATH: `${dir}:/usr/bin:relative` });
      expect(found).toEqual({ git: '/usr/bin/git', ssh: '/usr/bin/ssh', path: '/usr/bin' });
      await expect(findSshPrograms([], { PATH: '/nonexistent' })).rejects.toThrow(
        /an SSH source needs the git and ssh commands, not found on PATH \(\/nonexistent\): install git and openssh-client/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('describeSshFailure', () => {
  it.each([
    [
      'No ED25519 host key is known for [git.example.com]:2222 and you have requested strict checking.\nHost key verification failed.',
      /^the SSH host key of git\.example\.com:2222 is not in source\.auth\.knownHostsFile \(\/etc\/stackd\/known_hosts\); refused\. Add it, after checking its fingerprint .*: ssh-keyscan -p 2222 git\.example\.com >> \/etc\/stackd\/known_hosts$/,
    ],
    [
      '@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\nHost key for [git.example.com]:2222 has changed and you have requested strict checking.\nHost key verification failed.',
      /^the SSH host key of git\.example\.com:2222 does not match the one for it in source\.auth\.knownHostsFile .*someone may be intercepting the connection$/,
    ],
    [
      'git@git.example.com: Permission denied (publickey).',
      /^git@git\.example\.com:2222 refused the key in source\.auth\.sshKeyFile \(\/run\/credentials\/stackd\.service\/ssh-key\): add its public key \(ssh-keygen -y -f /,
    ],
    [
      'ssh: connect to host git.example.com port 2222: Connection refused',
      /^connecting to git\.example\.com port 2222 was refused/,
    ],
    ['ssh: connect to host git.example.com port 2222: Connection timed out', /timed out$/],
    [
      'ssh: Could not resolve hostname git.example.com: Name or service not known',
      /^cannot resolve the host name git\.example\.com/,
    ],
    [
      "fatal: '/ops/stacks.git' does not appear to be a git repository",
      /^git\.example\.com:2222 has no repository at \/ops\/stacks\.git that this key may read/,
    ],
    [
      'Permissions 0644 for \'/k\' are too open.\nIt is required that your private key files are NOT accessible by others.\nLoad key "/k": bad permissions',
      /chmod 600/,
    ],
    [
      'remote: something odd\nfatal: protocol error: bad line length',
      /^git fetch over SSH from git\.example\.com:2222: remote: something odd; fatal: protocol error: bad line length$/,
    ],
  ])('%s', (stderr, expected) => {
    const error = describe_(`${stderr}\n${BOILERPLATE}`);
    expect(error).toBeInstanceOf(SshFetchError);
    expect(error.message).toMatch(expected);
  });

  it('a missing branch is the same SourceError as over http', () => {
    const error = describe_("fatal: couldn't find remote ref refs/heads/main");
    expect(error).toBeInstanceOf(SourceError);
    expect(error.message).toBe('branch `main` not found on ssh://git@git.example.com:2222/ops/stacks.git');
  });
});
