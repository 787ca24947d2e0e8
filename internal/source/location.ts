import { stat, readFile } from 'node:fs/promises';
import { redactUrl } from '../log/redact.js';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isCode } from './tree_directory.js';
import { parseSshUrl, type SshUrl } from './ssh_url.js';

/** Basic-auth credentials for an http(s) remote; the token is the password. */
export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/** Where the desired state comes from: an http(s) or SSH remote, or a repository on this machine. */
export type SourceLocation =
  | { readonly kind: 'http'; readonly url: string; readonly credentials: Credentials | undefined }
  | ({ readonly kind: 'ssh' } & SshUrl)
  | { readonly kind: 'local'; readonly path: string };

/** Username sent with a token when none is configured (GitHub's convention; others ignore it). */
export const DEFAULT_USERNAME = 'x-access-token';

/**
 * Parse `source.url`. Userinfo in an http(s) URL is taken out of it (it is never sent in the
 * URL, stored or printed) and used as credentials unless `auth` gives some.
 */
export function parseLocation(url: string, auth?: { username?: string; token?: string }): SourceLocation {
  if (/^https?:\/\//i.test(url)) {
    const parsed = new URL(url);
    const fromUrl = {
      username: decodeURIComponent(parsed.username),
      password: decodeURIComponent(parsed.password),
    };
    parsed.username = '';
    parsed.password = '';
    const token = auth?.token ?? (fromUrl.password === '' ? undefined : fromUrl.password);
    const username = auth?.username ?? (fromUrl.username === '' ? undefined : fromUrl.username);
    const credentials =
      token === undefined && username === undefined
        ? undefined
        : { username: username ?? DEFAULT_USERNAME, password: token ?? '' };
    return { kind: 'http', url: parsed.toString(), credentials };
  }
  if (/^file:\/\//i.test(url)) return { kind: 'local', path: fileURLToPath(url) };
  let ssh: SshUrl | undefined;
  try {
    ssh = parseSshUrl(url);
  } catch (error) {
    throw new TypeError(
      `Expected \`url\` to be a Git remote or a local path, got \`${shown(url)}\`: ${(error as Error).message}`,
      { cause: error },
    );
  }
  if (ssh !== undefined) return { kind: 'ssh', ...ssh };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) || /^[^/]+@[^/:]+:/.test(url)) {
    throw new TypeError(
      `Expected \`url\` to be an http(s) or SSH URL or a local path, got \`${shown(url)}\``,
    );
  }
  return { kind: 'local', path: isAbsolute(url) ? url : resolve(url) };
}

/** `url` for a message: URL userinfo removed, and anything before the last `@` of a schemeless one. */
function shown(url: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return redactUrl(url);
  const at = url.lastIndexOf('@');
  return at === -1 ? url : `***${url.slice(at)}`;
}

/**
 * The Git directory of a local repository: `<path>/.git` (a directory, or a `gitdir:` file as
 * in worktrees and submodules), or `<path>` itself when it is bare. For a worktree the common
 * directory is used, which holds the branches and objects.
 */
export async function findGitdir(path: string): Promise<string> {
  let gitdir = path;
  const dotGit = resolve(path, '.git');
  const dotGitStats = await stat(dotGit).catch(() => undefined);
  if (dotGitStats?.isDirectory()) gitdir = dotGit;
  else if (dotGitStats?.isFile()) {
    const match = /^gitdir:\s*(.+)$/m.exec(await readFile(dotGit, 'utf8'));
    if (match?.[1] !== undefined) gitdir = resolve(path, match[1].trim());
  }
  try {
    const common = (await readFile(resolve(gitdir, 'commondir'), 'utf8')).trim();
    if (common !== '') gitdir = resolve(gitdir, common);
  } catch (error) {
    if (!isCode(error, 'ENOENT') && !isCode(error, 'ENOTDIR')) throw error;
  }
  const head = await stat(resolve(gitdir, 'HEAD')).catch(() => undefined);
  const objects = await stat(resolve(gitdir, 'objects')).catch(() => undefined);
  if (!head?.isFile() || !objects?.isDirectory()) throw new Error(`${path} is not a Git repository`);
  return gitdir;
}
