/**
 * A real OpenSSH server on loopback serving Git repositories through `git-shell`, for the SSH
 * source's tests: `/usr/sbin/sshd -D -f <its own config>` as the current user, with its own
 * host key, an authorized deploy key (ed25519) restricted to a forced command, and a
 * known_hosts file for it made with `ssh-keyscan`, as an operator would.
 *
 * The forced command is a small wrapper that logs each call (the command Git asked for and the
 * bytes upload-pack sent back), can hold a call (to sample processes during a fetch, or to make
 * a fetch outlast its timeout), and then runs `git-shell -c "$SSH_ORIGINAL_COMMAND"` from the
 * repositories' directory (so scp-like relative paths resolve there).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './ports.js';

const run = promisify(execFile);

export interface SshdOptions {
  /** Directory for everything the server has (created; removed by the caller). */
  readonly root: string;
  /** Directory the repositories are served from (scp-like paths are relative to it). */
  readonly repos: string;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** @default a free port */
  readonly port?: number;
}

export interface SshCall {
  /** `git-upload-pack '/srv/stacks.git'`. */
  readonly command: string;
  /** Bytes the server sent back (ref advertisement, pack). */
  readonly bytesOut: number;
}

export interface Sshd {
  readonly host: string;
  readonly port: number;
  /** The login user (the one the server runs as). */
  readonly user: string;
  /** The authorized deploy key's private key (mode 0600). */
  readonly clientKey: string;
  /** A key the server does not know. */
  readonly otherKey: string;
  /** known_hosts with this server's host key (`ssh-keyscan`). */
  readonly knownHosts: string;
  /** `ssh://user@host:port/<repos>/<name>`. */
  url(name: string): string;
  /** `user@host:<name>` (only meaningful on port 22). */
  scpUrl(name: string): string;
  /** The calls served so far. */
  calls(): Promise<SshCall[]>;
  resetCalls(): Promise<void>;
  /** Make every call wait (until release, or `seconds`) before Git runs. */
  hold(seconds: number): Promise<void>;
  release(): Promise<void>;
  /** Stop, give the server a new host key, start again on the same port. */
  rotateHostKey(): Promise<void>;
  close(): Promise<void>;
}

const SSHD = '/usr/sbin/sshd';

/** Resolves once the server on host:port says `SSH-2.0-`. */
async function banner(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => {
      done(false);
    });
    socket.once('data', (data) => {
      done(data.toString('latin1').startsWith('SSH-2.0-'));
    });
    socket.once('error', () => {
      done(false);
    });
  });
}

export async function startSshd(options: SshdOptions): Promise<Sshd> {
  const host = options.host ?? '127.0.0.1';
  const root = options.root;
  const server = join(root, 'server');
  const client = join(root, 'client');
  await mkdir(server, { recursive: true, mode: 0o700 });
  await mkdir(client, { recursive: true, mode: 0o700 });
  // sshd refuses to start without its privilege separation directory (Debian makes it at boot
  // when the service runs; here it does not). Left in place: it is the package's own path.
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const hostKey = join(server, 'host_ed25519');
  const clientKey = join(client, 'id_ed25519');
  const otherKey = join(client, 'other_ed25519');
  const knownHosts = join(client, 'known_hosts');
  const callsLog = join(server, 'calls.log');
  const holdFile = join(server, 'hold');
  const pidsFile = join(server, 'wrapper.pids');
  const wrapper = join(server, 'git-only.sh');
  const keygen = (file: string, comment: string) =>
    run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
  await Promise.all([
    keygen(hostKey, 'stackd-test-host'),
    keygen(clientKey, 'stackd-test-deploy'),
    keygen(otherKey, 'stackd-test-other'),
  ]);
  await writeFile(
    wrapper,
    [
      '#!/bin/bash',
      '# Forced command of the deploy key: log, maybe hold, then git-shell (Git commands only).',
      `echo $$ >> '${pidsFile}'`,
      `if [ -f '${holdFile}' ]; then`,
      `  n=$(( $(cat '${holdFile}') * 10 ))`,
      `  while [ -f '${holdFile}' ] && [ "$n" -gt 0 ]; do sleep 0.1; n=$((n - 1)); done`,
      'fi',
      `cd '${options.repos}' || exit 1`,
      'out=$(mktemp)',
      'git-shell -c "$SSH_ORIGINAL_COMMAND" | tee "$out"',
      'status=${PIPESTATUS[0]}',
      `printf '%s\\t%s\\n' "$SSH_ORIGINAL_COMMAND" "$(wc -c < "$out")" >> '${callsLog}'`,
      'rm -f "$out"',
      'exit "$status"',
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  const pub = (await readFile(`${clientKey}.pub`, 'utf8')).trim();
  await writeFile(join(server, 'authorized_keys'), `command="${wrapper}",restrict ${pub}\n`, { mode: 0o600 });
  await writeFile(callsLog, '');

  const port = options.port ?? (await freePort(host));
  const config = join(server, 'sshd_config');
  await writeFile(
    config,
    [
      `ListenAddress ${host}:${port}`,
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${join(server, 'authorized_keys')}`,
      `PidFile ${join(server, 'sshd.pid')}`,
      'StrictModes no',
      'UsePAM no',
      'PermitRootLogin prohibit-password',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'AuthenticationMethods publickey',
      'AcceptEnv GIT_PROTOCOL',
      'PrintMotd no',
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
  );
  const log = join(server, 'sshd.log');
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    const proc = spawn(SSHD, ['-D', '-f', config, '-E', log], { stdio: 'ignore' });
    child = proc;
    const exited = new Promise<void>((resolve) =>
      proc.once('exit', () => {
        resolve();
      }),
    );
    for (let i = 0; i < 100; i++) {
      if (proc.exitCode !== null || proc.signalCode !== null) break;
      if (await banner(host, port)) return;
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 100))]);
    }
    proc.kill('SIGKILL');
    const text = await readFile(log, 'utf8').catch(() => '');
    throw new Error(`sshd did not start on ${host}:${port}:\n${text}`);
  };
  const stop = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) =>
      proc.once('exit', () => {
        resolve();
      }),
    );
    proc.kill('SIGTERM');
    await exited;
  };
  await start();
  const scan = async (): Promise<void> => {
    const args = ['-t', 'ed25519', ...(port === 22 ? [] : ['-p', String(port)]), host];
    const { stdout } = await run('ssh-keyscan', args);
    if (!stdout.includes('ssh-ed25519')) throw new Error(`ssh-keyscan ${args.join(' ')} found no key`);
    await writeFile(knownHosts, stdout);
  };
  await scan();

  const user = userInfo().username;
  const hostInUrl = host.includes(':') ? `[${host}]` : host;
  return {
    host,
    port,
    user,
    clientKey,
    otherKey,
    knownHosts,
    url: (name) => `ssh://${user}@${hostInUrl}:${port}${join(options.repos, name)}`,
    scpUrl: (name) => `${user}@${hostInUrl}:${name}`,
    async calls() {
      const text = await readFile(callsLog, 'utf8');
      return text
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => {
          const [command = '', bytes = '0'] = line.split('\t');
          return { command, bytesOut: Number(bytes) };
        });
    },
    async resetCalls() {
      await writeFile(callsLog, '');
    },
    async hold(seconds) {
      await writeFile(holdFile, String(seconds));
    },
    async release() {
      await rm(holdFile, { force: true });
    },
    async rotateHostKey() {
      await stop();
      await rm(hostKey, { force: true });
      await rm(`${hostKey}.pub`, { force: true });
      await keygen(hostKey, 'stackd-test-host-rotated');
      await start();
    },
    async close() {
      await rm(holdFile, { force: true });
      await stop();
      // Wrappers still holding or serving (a client that timed out): end them.
      const pids = (await readFile(pidsFile, 'utf8').catch(() => ''))
        .split('\n')
        .filter((p) => /^\d+$/.test(p))
        .map(Number);
      for (const pid of pids) {
        // sshd starts each forced command in a session of its own: end its whole group.
        for (const target of [-pid, pid]) {
          try {
            process.kill(target, 'SIGKILL');
          } catch {
            // gone already
          }
        }
      }
    },
  };
}

/** Whether anything of ours is still running: processes whose argv mentions `needle`. */
export async function processesMentioning(needle: string): Promise<string[]> {
  const found: string[] = [];
  for (const { pid, argv } of await processTable()) {
    if (pid !== process.pid && argv.includes(needle)) found.push(`${pid}: ${argv}`);
  }
  return found;
}

/** Every process's argv (NUL-separated words joined with spaces), read from /proc. */
export async function processTable(): Promise<{ pid: number; argv: string }[]> {
  const out: { pid: number; argv: string }[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const raw = await readFile(`/proc/${entry}/cmdline`);
      if (raw.length === 0) continue;
      out.push({ pid: Number(entry), argv: raw.toString('utf8').split('\0').join(' ').trim() });
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** `/proc/<pid>/environ` as a map (empty when it cannot be read). */
export async function environOf(pid: number): Promise<Record<string, string>> {
  try {
    const raw = await readFile(`/proc/${pid}/environ`, 'utf8');
    const env: Record<string, string> = {};
    for (const pair of raw.split('\0')) {
      const at = pair.indexOf('=');
      if (at > 0) env[pair.slice(0, at)] = pair.slice(at + 1);
    }
    return env;
  } catch {
    return {};
  }
}

export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
