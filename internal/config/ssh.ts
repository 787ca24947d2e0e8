/**
 * `source.auth.sshKeyFile` and `source.auth.knownHostsFile`: their format, and the checks that
 * need more than one key (an SSH `source.url` needs both; an http(s) one neither) or the files
 * themselves (readable, a private key without a passphrase, not readable by others, host keys
 * in the known_hosts file). Each check answers with the message of a ConfigError, or undefined.
 */
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { looksLikeSsh, parseSshUrl, sshHostPort, type SshUrl } from '../source/ssh_url.js';

/** A path, or '' (not set); a relative path is taken from the working directory at start-up. */
export const sshFileFormat = {
  name: 'ssh-file',
  validate(value: unknown): void {
    if (typeof value !== 'string') throw new TypeError('expected the path of a file');
    if (value !== '' && value.trim() === '') throw new TypeError('expected the path of a file, got blanks');
  },
  coerce: (value: unknown): unknown =>
    typeof value === 'string' && value.trim() !== '' ? resolve(value) : value,
};

interface SshSettings {
  readonly url: string;
  readonly auth: {
    readonly username: string;
    readonly token: string;
    readonly sshKeyFile: string;
    readonly knownHostsFile: string;
  };
}

const ENV: Readonly<Record<string, string>> = {
  'source.auth.sshKeyFile': 'STACKD_SOURCE_SSH_KEY_FILE',
  'source.auth.knownHostsFile': 'STACKD_SOURCE_KNOWN_HOSTS_FILE',
  'source.auth.username': 'STACKD_SOURCE_USERNAME',
  'source.auth.token': 'STACKD_SOURCE_TOKEN',
};

/** Largest key file read (an ed25519 key is 400 bytes, RSA 4096 about 3.4 KiB). */
const MAX_KEY_BYTES = 64 * 1024;

/**
 * What is wrong with the SSH settings, as a ConfigError message, or undefined; checked, files
 * read, for commands that fetch (`fetching`: run, sync, plan) only. `origin`: where a key's value
 * came from, if not the config file (`STACKD_…`, `--flag`).
 */
export function checkSshSettings(
  source: SshSettings,
  fetching: boolean,
  origin: (key: string) => string | undefined,
): string | undefined {
  // Commands that only talk to a daemon (`status --config …`) or print the configuration need
  // none of it: the unit may pass the key's path to the daemon alone.
  if (!fetching) return undefined;
  const name = (key: string): string => `${key} (${origin(key) ?? ENV[key] ?? key})`;
  const { url, auth } = source;
  if (url === '' || !looksLikeSsh(url)) {
    if (url === '') return undefined;
    for (const key of ['sshKeyFile', 'knownHostsFile'] as const) {
      if (auth[key] !== '') {
        return `${name(`source.auth.${key}`)}: only used by SSH sources (ssh://…, user@host:path), and source.url is not one: unset it, or set source.url to the SSH remote`;
      }
    }
    return undefined;
  }
  const remote = parseSshUrl(url);
  if (remote === undefined) return undefined;
  for (const key of ['token', 'username'] as const) {
    if (auth[key] !== '') {
      return `${name(`source.auth.${key}`)}: only used by http(s) sources; an SSH source signs in as the user in source.url with the key in source.auth.sshKeyFile: unset it`;
    }
  }
  if (auth.sshKeyFile === '') {
    return `${name('source.auth.sshKeyFile')}: required for the SSH source ${url}: expected the path of the private key of a deploy key (without a passphrase), such as /etc/stackd/ssh-key`;
  }
  if (auth.knownHostsFile === '') {
    return `${name('source.auth.knownHostsFile')}: required for the SSH source ${url}: expected a known_hosts file holding the host key of ${sshHostPort(remote)} (stackd never trusts an unknown host key), made with: ${keyscan(remote)} > /etc/stackd/known_hosts, then compare its fingerprint (ssh-keygen -lf /etc/stackd/known_hosts) with the one the server's operator publishes`;
  }
  return (
    checkKeyFile(name('source.auth.sshKeyFile'), auth.sshKeyFile) ??
    checkKnownHosts(name('source.auth.knownHostsFile'), auth.knownHostsFile, remote)
  );
}

function keyscan(remote: SshUrl): string {
  return remote.port === undefined
    ? `ssh-keyscan ${remote.host}`
    : `ssh-keyscan -p ${remote.port} ${remote.host}`;
}

/** The file's text (at most `max` bytes), or the message saying why it cannot be read. */
function readSmall(path: string, max: number): { text: string; mode: number; uid: number } | string {
  try {
    const stats = statSync(path);
    if (!stats.isFile()) return `${path} is not a regular file`;
    if (stats.size > max) return `${path} is larger than ${max} bytes`;
    return { text: readFileSync(path, 'utf8'), mode: stats.mode, uid: stats.uid };
  } catch (error) {
    return `cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`;
  }
}

function checkKeyFile(name: string, path: string): string | undefined {
  const read = readSmall(path, MAX_KEY_BYTES);
  if (typeof read === 'string') return `${name}: ${read}: expected a private key file this user can read`;
  const { text } = read;
  if (/^(ssh-|ecdsa-|sk-)\S+ AAAA/.test(text.trimStart())) {
    return `${name}: ${path} is a public key: expected the private key (the file without .pub)`;
  }
  const block = /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----([\s\S]*?)-----END \1PRIVATE KEY-----/.exec(text);
  if (block === null)
    return `${name}: ${path} holds no private key: expected a file such as ssh-keygen -t ed25519 writes`;
  if (isEncrypted(block[1] ?? '', block[2] ?? '')) {
    return `${name}: ${path} is protected by a passphrase, which stackd cannot type: expected a deploy key without one (ssh-keygen -t ed25519 -N '' -f ${path})`;
  }
  // ssh's own rule (sshkey_perm_ok): a key of this user that others may read is refused.
  if (typeof process.getuid === 'function' && read.uid === process.getuid() && (read.mode & 0o077) !== 0) {
    return `${name}: ${path} can be read by other users (mode ${(read.mode & 0o777).toString(8)}), so ssh would refuse it: chmod 600 ${path}`;
  }
  return undefined;
}

/** A passphrase: PEM `Proc-Type: 4,ENCRYPTED`, PKCS#8 `ENCRYPTED`, or an OpenSSH key's cipher. */
function isEncrypted(label: string, body: string): boolean {
  if (label.includes('ENCRYPTED') || /Proc-Type:\s*4,ENCRYPTED/.test(body)) return true;
  if (label !== 'OPENSSH ') return false;
  // openssh-key-v1\0, then string ciphername (uint32 length, bytes): "none" when not encrypted.
  const bytes = Buffer.from(body.replace(/\s+/g, ''), 'base64');
  const magic = 'openssh-key-v1\0';
  if (bytes.subarray(0, magic.length).toString('latin1') !== magic || bytes.length < magic.length + 4)
    return false;
  const length = bytes.readUInt32BE(magic.length);
  const cipher = bytes.subarray(magic.length + 4, magic.length + 4 + length).toString('latin1');
  return cipher !== 'none';
}

function checkKnownHosts(name: string, path: string, remote: SshUrl): string | undefined {
  const read = readSmall(path, 16 * 1024 * 1024);
  if (typeof read === 'string') return `${name}: ${read}: expected a known_hosts file this user can read`;
  const entries = read.text
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#'));
  if (entries.length === 0) {
    return `${name}: ${path} holds no host key: expected the host key of ${sshHostPort(remote)}, made with: ${keyscan(remote)} > ${path} (then check its fingerprint with the server's operator)`;
  }
  return undefined;
}
