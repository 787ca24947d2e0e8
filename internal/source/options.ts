import { isAbsolute } from 'node:path';
import { realClock, type Clock } from '../../pkg/clock/index.js';
import { checkInteger, invalid } from '../../pkg/validate/index.js';
import { resolveStackLimits, type StackLimits } from './limits.js';
import type { LogMeta } from '../log/events.js';
import type { SecretOpener } from '../secrets/index.js';

/** What the desired source logs through (a winston Logger fits). */
export interface SourceLogger {
  debug(message: string, meta: LogMeta): unknown;
  info(message: string, meta: LogMeta): unknown;
  warn(message: string, meta: LogMeta): unknown;
  error(message: string, meta: LogMeta): unknown;
}

export interface GitSourceOptions {
  /** `source.url`: an http(s) Git remote, a local path or a `file://` URL to a repository. */
  readonly url: string;
  /**
   * Branch whose committed content is the desired state.
   * @default 'main'
   */
  readonly branch?: string;
  /**
   * Directory of the repository the stacks live under.
   * @default '' (the root)
   */
  readonly path?: string;
  /**
   * Credentials for an http(s) remote; the token is sent as the basic-auth password.
   * @default none (userinfo in `url` is used if present); username defaults to `x-access-token`
   */
  readonly auth?: { readonly username?: string; readonly token?: string };
  /**
   * For an SSH remote (`ssh://…`, `user@host:path`), required there: the private key it signs in
   * with and the known_hosts file its host key must be in (`source.auth.sshKeyFile`,
   * `source.auth.knownHostsFile`), both absolute paths. Only the paths are handed to `ssh`, in
   * its environment; the files are read by ssh alone.
   */
  readonly ssh?: SshAuth;
  /** Directory for the fetched repository (`repo/`), manifests (`manifests/`) and `source.json`. */
  readonly dataDir: string;
  /**
   * Globs over stack ids to include.
   * @default ['**']
   */
  readonly include?: readonly string[];
  /**
   * Globs over stack ids to exclude.
   * @default []
   */
  readonly exclude?: readonly string[];
  /** @default no logging */
  readonly logger?: SourceLogger;
  /**
   * Abort a fetch (ref discovery and pack download together) after this many milliseconds.
   * @default 60000
   */
  readonly fetchTimeoutMs?: number;
  /**
   * The clock, for `fetchedAt` and fetch durations.
   * @default realClock
   */
  readonly clock?: Clock;
  /**
   * Per-stack bounds (`source.maxFileSize`, `source.maxStackSize`, `source.maxStackFiles`): a
   * stack over one is invalid, with a message naming the limit.
   * @default DEFAULT_STACK_LIMITS
   */
  readonly limits?: Partial<StackLimits>;
  /**
   * Opens the stacks' SOPS and age files (`secrets.ageKeyFile`).
   * @default none: a stack holding one fails, saying that no key is configured
   */
  readonly secrets?: SecretOpener;
}

export interface SshAuth {
  readonly keyFile: string;
  readonly knownHostsFile: string;
}

export type ResolvedOptions = Required<
  Omit<GitSourceOptions, 'auth' | 'logger' | 'limits' | 'secrets' | 'ssh'>
> &
  Pick<GitSourceOptions, 'auth' | 'logger' | 'secrets' | 'ssh'> & { readonly limits: StackLimits };

/** Fill in defaults and validate loudly, one message pattern for every option. */
export function resolveOptions(options: GitSourceOptions): ResolvedOptions {
  const resolved = {
    branch: 'main',
    path: '',
    include: ['**'],
    exclude: [],
    fetchTimeoutMs: 60_000,
    clock: realClock,
    ...options,
  };
  if (typeof resolved.url !== 'string' || resolved.url === '') {
    throw invalid('url', 'a non-empty string', resolved.url);
  }
  if (
    typeof resolved.branch !== 'string' ||
    !/^[^\s~^:?*[\\]+$/.test(resolved.branch) ||
    resolved.branch.startsWith('-')
  ) {
    throw invalid('branch', 'a branch name', resolved.branch);
  }
  if (typeof resolved.path !== 'string') {
    throw invalid('path', 'a string', resolved.path);
  }
  if (typeof resolved.dataDir !== 'string' || !isAbsolute(resolved.dataDir)) {
    throw invalid('dataDir', 'an absolute path', resolved.dataDir);
  }
  checkInteger('fetchTimeoutMs', resolved.fetchTimeoutMs, 1);
  if (resolved.ssh !== undefined) {
    for (const key of ['keyFile', 'knownHostsFile'] as const) {
      const value = resolved.ssh[key];
      if (typeof value !== 'string' || !isAbsolute(value))
        throw invalid(`ssh.${key}`, 'an absolute path', value);
    }
  }
  return { ...resolved, limits: resolveStackLimits(options.limits) };
}
