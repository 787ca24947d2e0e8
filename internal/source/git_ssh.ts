/**
 * Fetching over SSH. isomorphic-git speaks only HTTP, so for an SSH remote the system `git`
 * does the fetch, and only the fetch: one `git fetch <url> +refs/heads/B:refs/heads/B` into the
 * same bare repository (`dataDir/repo`) the http transport fills, whose objects are then read
 * with isomorphic-git as for any other source. `git fetch` costs one SSH connection: when the
 * advertised commit is the one we have, it sends no want and receives no pack.
 *
 * What it is given, and what it is not:
 * - argv holds no secret and no secret's path: the URL (SSH URLs carry no password) and fixed
 *   options. The ssh command (GIT_SSH_COMMAND) names the key and the known_hosts file as
 *   `${STACKD_SOURCE_SSH_KEY_FILE}` and `${STACKD_SOURCE_KNOWN_HOSTS_FILE}`, literally: ssh
 *   expands them itself (OpenSSH 8.4 and later), from its environment, where only the paths are.
 *   The key's content is read by ssh alone.
 * - nothing is written to the repository's config: the URL is passed on the command line, not
 *   as a remote; no FETCH_HEAD, no reflog (which would record the command line), no hooks run
 *   (nothing inside dataDir is ever run), no automatic gc.
 * - a minimal environment (not stackd's, which holds its tokens), no system or global Git or
 *   ssh configuration (`-F /dev/null`), no agent, no prompt (BatchMode), host keys from the
 *   configured file only, strictly (StrictHostKeyChecking=yes, GlobalKnownHostsFile=/dev/null).
 * - its own process group, killed whole (git, the shell running ssh, ssh) on timeout or abort.
 */
import { constants } from 'node:fs';
import { access, realpath } from 'node:fs/promises';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { execa, type ExecaError } from 'execa';
import { SourceError } from './errors.js';
import type { SshAuth } from './options.js';
import { sshHostPort, type SshUrl } from './ssh_url.js';
import { isExecutable, isInside } from '../proc/executables.js';

/** The child's environment variables that name the key and the known_hosts file. */
export const KEY_FILE_ENV = 'STACKD_SOURCE_SSH_KEY_FILE';
export const KNOWN_HOSTS_ENV = 'STACKD_SOURCE_KNOWN_HOSTS_FILE';

/** Most of git's stderr kept (a hostile server's `remote:` messages go there). */
const MAX_STDERR_BYTES = 256 * 1024;

/**
 * A failed SSH fetch, said as what happened and what to do; the source prefixes it with
 * `fetching <url> failed:` (a missing branch is a SourceError of its own, as over http).
 */
export class SshFetchError extends Error {
  override readonly name = 'SshFetchError';
}

export interface SshFetch {
  readonly remote: SshUrl;
  readonly auth: SshAuth;
  readonly gitdir: string;
  readonly branch: string;
  /** Aborts the fetch: the whole process group is killed. */
  readonly signal: AbortSignal;
  /** ssh's ConnectTimeout, in seconds. */
  readonly connectTimeoutSeconds: number;
  readonly programs: SshPrograms;
}

/** The executables, as absolute paths found once. */
export interface SshPrograms {
  readonly git: string;
  readonly ssh: string;
  /** `PATH` the child gets: the absolute entries of stackd's, without the untrusted ones. */
  readonly path: string;
}

/**
 * `git` and `ssh` as absolute paths: the first executable on PATH's absolute entries outside
 * the untrusted directories (dataDir: containers bind-mount parts of it). A missing one is a
 * SshFetchError saying what to install.
 */
export async function findSshPrograms(
  untrusted: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<SshPrograms> {
  const dirs = (env['PATH'] ?? '').split(delimiter).filter((dir) => dir !== '' && isAbsolute(dir));
  const distrusted = await Promise.all(untrusted.map(async (dir) => realpath(dir).catch(() => resolve(dir))));
  const which = async (name: string): Promise<string | undefined> => {
    for (const dir of dirs) {
      const path = join(dir, name);
      const real = await realpath(path).catch(() => undefined);
      if (real === undefined || distrusted.some((d) => isInside(real, d) || isInside(path, d))) continue;
      if (await isExecutable(real)) return path;
    }
    return undefined;
  };
  const [git, ssh] = await Promise.all([which('git'), which('ssh')]);
  const missing = [git === undefined ? 'git' : '', ssh === undefined ? 'ssh' : ''].filter((n) => n !== '');
  if (git === undefined || ssh === undefined) {
    throw new SshFetchError(
      `an SSH source needs the ${missing.join(' and ')} command${missing.length > 1 ? 's' : ''}, not found on PATH (${dirs.join(delimiter)}): install git and openssh-client`,
    );
  }
  const trusted = dirs.filter((dir) => !distrusted.some((d) => isInside(resolve(dir), d)));
  return { git, ssh, path: trusted.join(delimiter) };
}

/** A word for `sh -c`: single-quoted, so `${…}` reaches ssh unexpanded. */
const quote = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`;

/**
 * GIT_SSH_COMMAND: the absolute ssh with every option that matters given, none taken from a
 * configuration file, the key and known_hosts named through the environment.
 */
export function sshCommand(ssh: string, connectTimeoutSeconds: number): string {
  const options = [
    'BatchMode=yes',
    'IdentitiesOnly=yes',
    'IdentityAgent=none',
    `IdentityFile=\${${KEY_FILE_ENV}}`,
    `UserKnownHostsFile=\${${KNOWN_HOSTS_ENV}}`,
    'GlobalKnownHostsFile=/dev/null',
    'StrictHostKeyChecking=yes',
    'UpdateHostKeys=no',
    'CheckHostIP=no',
    'PreferredAuthentications=publickey',
    'PasswordAuthentication=no',
    'KbdInteractiveAuthentication=no',
    'ForwardAgent=no',
    'ForwardX11=no',
    'ClearAllForwardings=yes',
    'PermitLocalCommand=no',
    'ControlMaster=no',
    'ControlPath=none',
    'RequestTTY=no',
    `ConnectTimeout=${connectTimeoutSeconds}`,
    'ServerAliveInterval=15',
    'ServerAliveCountMax=3',
    'LogLevel=ERROR',
  ];
  return [quote(ssh), '-F', '/dev/null', ...options.map((o) => quote(`-o${o}`))].join(' ');
}

/** The whole command line of the fetch (argv, shown in tests; nothing in it is secret). */
export function fetchArgs(url: string, branch: string): string[] {
  const ref = `refs/heads/${branch}`;
  return [
    // Nothing from the repository's directory runs, nothing there records the command line.
    '-c',
    'core.hooksPath=/dev/null',
    '-c',
    'core.logAllRefUpdates=false',
    '-c',
    'core.fsmonitor=false',
    '-c',
    'gc.auto=0',
    '-c',
    'maintenance.auto=false',
    '-c',
    'fetch.writeCommitGraph=false',
    '-c',
    'fetch.recurseSubmodules=false',
    '-c',
    'protocol.allow=never',
    '-c',
    'protocol.ssh.allow=always',
    'fetch',
    '--quiet',
    '--no-tags',
    '--no-write-fetch-head',
    '--no-recurse-submodules',
    '--no-auto-maintenance',
    '--',
    url,
    `+${ref}:${ref}`,
  ];
}

/**
 * Fetch `branch` into the bare repository (forced: a force-push is followed). Resolves when git
 * succeeded; a failure is an SshFetchError with what ssh or git said turned into what to do (a
 * SourceError when the branch is missing).
 */
export async function fetchOverSsh(fetch: SshFetch): Promise<void> {
  const { remote, auth, programs, signal } = fetch;
  await checkReadable('source.auth.sshKeyFile', auth.keyFile);
  await checkReadable('source.auth.knownHostsFile', auth.knownHostsFile);
  if (signal.aborted) throw signal.reason;
  const subprocess = execa(programs.git, fetchArgs(remote.url, fetch.branch), {
    cwd: fetch.gitdir,
    env: {
      PATH: programs.path,
      // No user configuration at all (~/.gitconfig before git 2.32's GIT_CONFIG_GLOBAL; ssh
      // is given every file it reads).
      HOME: '/nonexistent',
      LC_ALL: 'C',
      GIT_DIR: fetch.gitdir,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_TERMINAL_PROMPT: '0',
      GIT_SSH_COMMAND: sshCommand(programs.ssh, fetch.connectTimeoutSeconds),
      GIT_SSH_VARIANT: 'ssh',
      GIT_REFLOG_ACTION: 'fetch',
      [KEY_FILE_ENV]: auth.keyFile,
      [KNOWN_HOSTS_ENV]: auth.knownHostsFile,
    },
    extendEnv: false,
    detached: true,
    stdin: 'ignore',
    maxBuffer: { stdout: MAX_STDERR_BYTES, stderr: MAX_STDERR_BYTES },
    stripFinalNewline: true,
  });
  const kill = (): void => {
    if (subprocess.pid === undefined) return;
    try {
      process.kill(-subprocess.pid, 'SIGKILL');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  };
  signal.addEventListener('abort', kill, { once: true });
  try {
    await subprocess;
  } catch (error) {
    // Read again: the abort came while git ran (the check above narrowed it to false).
    if ((signal as { readonly aborted: boolean }).aborted) throw signal.reason;
    const failure = error as ExecaError;
    if (failure.isMaxBuffer) {
      throw new SshFetchError(`git fetch over SSH wrote more than ${MAX_STDERR_BYTES} bytes of messages`);
    }
    const stderr = typeof failure.stderr === 'string' ? failure.stderr : '';
    throw describeSshFailure(stderr, { remote, auth, branch: fetch.branch });
  } finally {
    signal.removeEventListener('abort', kill);
    // ssh (or the shell running it) outliving git would hold the connection: end the group.
    kill();
  }
}

async function checkReadable(key: string, path: string): Promise<void> {
  try {
    await access(path, constants.R_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new SshFetchError(`cannot read ${key} ${path} (${code}): expected a file this user can read`);
  }
}

export interface FailureContext {
  readonly remote: SshUrl;
  readonly auth: SshAuth;
  readonly branch: string;
}

/** git's and ssh's closing lines that say nothing more than "it failed". */
const BOILERPLATE = [
  /^fatal: Could not read from remote repository\.$/,
  /^Please make sure you have the correct access rights$/,
  /^and the repository exists\.$/,
  /^$/,
];

/**
 * What ssh or git said (LC_ALL=C), as what happened and what to do, naming the host and the
 * configured files (never their content: ssh prints none). Unrecognised: git's last lines.
 */
export function describeSshFailure(stderr: string, context: FailureContext): Error {
  const { remote, auth, branch } = context;
  const where = sshHostPort(remote);
  const hostArg = remote.port === undefined ? remote.host : `-p ${remote.port} ${remote.host}`;
  const keyFile = auth.keyFile;
  const knownHosts = auth.knownHostsFile;
  const has = (pattern: RegExp): boolean => pattern.test(stderr);
  if (has(/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for \S+ has changed/)) {
    return new SshFetchError(
      `the SSH host key of ${where} does not match the one for it in source.auth.knownHostsFile (${knownHosts}); refused. If the server's key was replaced on purpose, check the new fingerprint with its operator and replace the line (ssh-keyscan ${hostArg}); otherwise someone may be intercepting the connection`,
    );
  }
  if (has(/No \S+ host key is known for|Host key verification failed/)) {
    return new SshFetchError(
      `the SSH host key of ${where} is not in source.auth.knownHostsFile (${knownHosts}); refused. Add it, after checking its fingerprint with the server's operator: ssh-keyscan ${hostArg} >> ${knownHosts}`,
    );
  }
  if (has(/UNPROTECTED PRIVATE KEY FILE|bad permissions/)) {
    return new SshFetchError(
      `ssh refused source.auth.sshKeyFile (${keyFile}): other users can read it; make it readable by this user only (chmod 600)`,
    );
  }
  if (has(/Load key .*: (invalid format|error in libcrypto)|no such identity/)) {
    return new SshFetchError(
      `ssh cannot use source.auth.sshKeyFile (${keyFile}): expected a private key without a passphrase`,
    );
  }
  if (has(/\$\{STACKD_SOURCE_/)) {
    return new SshFetchError('an SSH source needs OpenSSH 8.4 or later (it expands ${…} in IdentityFile)');
  }
  if (has(/Permission denied \(/)) {
    const login = remote.user === undefined ? where : `${remote.user}@${where}`;
    return new SshFetchError(
      `${login} refused the key in source.auth.sshKeyFile (${keyFile}): add its public key (ssh-keygen -y -f ${keyFile}) to the repository as a deploy key with read access, and check the user in source.url`,
    );
  }
  if (has(/Connection refused/)) {
    return new SshFetchError(
      `connecting to ${remote.host} port ${remote.port ?? 22} was refused: check the host and port in source.url and that the SSH server runs`,
    );
  }
  if (has(/Connection timed out|Operation timed out/)) {
    return new SshFetchError(`connecting to ${remote.host} port ${remote.port ?? 22} timed out`);
  }
  if (has(/Could not resolve hostname/)) {
    return new SshFetchError(`cannot resolve the host name ${remote.host} of source.url`);
  }
  if (has(/couldn't find remote ref/)) {
    return new SourceError(`branch \`${branch}\` not found on ${remote.url}`);
  }
  if (has(/does not appear to be a git repository|[Rr]epository not found|not a git repository/)) {
    return new SshFetchError(
      `${where} has no repository at ${remote.path} that this key may read: check the path in source.url and the key's access`,
    );
  }
  const lines = stderr
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => !BOILERPLATE.some((b) => b.test(line)));
  const detail = lines.slice(-3).join('; ').slice(0, 500);
  return new SshFetchError(`git fetch over SSH from ${where}: ${detail === '' ? 'no message' : detail}`);
}
