/**
 * SSH Git remotes as `source.url` accepts them: `ssh://[user@]host[:port]/path` and the scp-like
 * `user@host:path` (the user is required there, so `c:stacks` stays a local path). Shared by the
 * configuration's validation and the source, so both agree on what is SSH. No dependencies.
 */

/** An SSH remote, taken apart for messages; `url` is what `git fetch` is given, as configured. */
export interface SshUrl {
  readonly url: string;
  /** The login user; undefined for `ssh://host/…` (ssh then uses the local user's name). */
  readonly user: string | undefined;
  /** Host name or address, without brackets. */
  readonly host: string;
  /** Undefined: ssh's default, 22. */
  readonly port: number | undefined;
  /** The repository path on the server, as written (relative to the login's home when scp-like). */
  readonly path: string;
}

export const SSH_URL_FORMS = 'ssh://[user@]host[:port]/path or user@host:path';

/** `ssh://…`, in any case. */
const SSH_SCHEME = /^ssh:\/\//i;
/** `user@host:path`: a user, an `@`, a host (no `/`, `\`, `:`), a `:`, before any slash. */
const SCP_LIKE = /^([^/\\:@\s]+)@(\[[^\]/\s]+\]|[^/\\:@\s[\]]+):(.*)$/s;
/** What looks like an scp-like remote even when malformed: a `:` after an `@`, before any `/`. */
const SCP_ISH = /^[^/\\:]*@[^/\\]*:/;

/** Whether `text` is meant as an SSH remote (well-formed or not). */
export function looksLikeSsh(text: string): boolean {
  return SSH_SCHEME.test(text) || SCP_ISH.test(text);
}

/** Names and hosts an option parser could take for a flag, and characters no URL part holds. */
const UNSAFE = /^-|[\s\p{Cc}]/u;

/**
 * Parse an SSH remote; undefined when `text` is not meant as one (see looksLikeSsh). A malformed
 * one throws a TypeError saying what is wrong, never echoing a password the URL carries.
 */
export function parseSshUrl(text: string): SshUrl | undefined {
  if (SSH_SCHEME.test(text)) return parseSshScheme(text);
  if (!SCP_ISH.test(text)) return undefined;
  const match = SCP_LIKE.exec(text);
  if (match === null) {
    throw new TypeError(`expected an SSH remote as ${SSH_URL_FORMS}`);
  }
  const [, user = '', bracketed = '', path = ''] = match;
  const host = bracketed.startsWith('[') ? bracketed.slice(1, -1) : bracketed;
  check(user, host, path);
  return { url: text, user, host, port: undefined, path };
}

function parseSshScheme(text: string): SshUrl {
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new TypeError(`expected an SSH remote as ${SSH_URL_FORMS}`);
  }
  if (parsed.password !== '') {
    throw new TypeError(
      'expected an SSH URL without a password (stackd signs in with the key in source.auth.sshKeyFile)',
    );
  }
  if (parsed.search !== '' || parsed.hash !== '') {
    throw new TypeError(`expected an SSH remote as ${SSH_URL_FORMS}, without ? or #`);
  }
  const user = parsed.username === '' ? undefined : decodeURIComponent(parsed.username);
  const host = parsed.hostname.startsWith('[') ? parsed.hostname.slice(1, -1) : parsed.hostname;
  const path = decodeURIComponent(parsed.pathname);
  check(user ?? '', host, path === '/' ? '' : path);
  return { url: text, user, host, port: parsed.port === '' ? undefined : Number(parsed.port), path };
}

function check(user: string, host: string, path: string): void {
  if (host === '') throw new TypeError(`expected an SSH remote with a host, as ${SSH_URL_FORMS}`);
  if (path === '') throw new TypeError(`expected an SSH remote with a repository path, as ${SSH_URL_FORMS}`);
  if (UNSAFE.test(user) || UNSAFE.test(host) || /\p{Cc}/u.test(path)) {
    throw new TypeError(
      'expected an SSH remote whose user and host do not start with `-` and hold no blanks or control characters',
    );
  }
}

/** `host`, `host:2222`, `[::1]:2222`: the host as people and ssh messages write it. */
export function sshHostPort(url: SshUrl): string {
  const host = url.host.includes(':') ? `[${url.host}]` : url.host;
  return url.port === undefined ? host : `${host}:${url.port}`;
}
