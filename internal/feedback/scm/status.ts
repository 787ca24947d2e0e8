/**
 * Commit status → HTTP request for GitHub, Gitea (Forgejo, Gogs) and GitLab, as each REST API
 * documents it; and the defaults stackd derives from a stack's source URL (repository, API base).
 */

import type { CommitState, CommitStatus, OutboundRequest, ScmProvider, ScmTarget } from '../types.js';

/**
 * Description limits, in characters. GitHub rejects more than 140 (422 "description is too
 * long"). GitLab validates 255. Gitea stores TEXT and documents no limit, but its UI shows the
 * description as a one-line tooltip; 255 keeps it readable and fits Gogs and older schemas too.
 */
export const DESCRIPTION_LIMITS: Readonly<Record<ScmProvider, number>> = {
  github: 140,
  gitea: 255,
  gitlab: 255,
};

const USER_AGENT = 'stackd';

/** At most `max` characters (code points, not bytes or UTF-16 units), `…` marking a cut. */
export function truncateChars(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

function base(url: string): string {
  return url.replace(/\/+$/, '');
}

function ownerRepo(repository: string): string {
  return repository
    .split('/')
    .filter((part) => part !== '')
    .map(encodeURIComponent)
    .join('/');
}

/** GitLab names stackd's `failure` `failed`; GitHub and Gitea use stackd's words. */
function gitlabState(state: CommitState): string {
  return state === 'failure' ? 'failed' : state;
}

/** The request that sets `status` on its commit at `target`. */
export function commitStatusRequest(target: ScmTarget, status: CommitStatus): OutboundRequest {
  const description = truncateChars(status.description, DESCRIPTION_LIMITS[target.provider]);
  const link = target.targetUrl === '' ? {} : { target_url: target.targetUrl };
  const sha = encodeURIComponent(status.sha);
  switch (target.provider) {
    case 'github':
      return {
        url: `${base(target.baseUrl)}/repos/${ownerRepo(target.repository)}/statuses/${sha}`,
        method: 'POST',
        headers: {
          Authorization: `Bearer ${target.token}`,
          Accept: 'application/vnd.github+json',
          'X-GitHub-Api-Version': '2022-11-28',
          'User-Agent': USER_AGENT,
          'Content-Type': 'application/json',
        },
        body: JSON.stringify({ state: status.state, ...link, description, context: status.context }),
      };
    case 'gitea':
      return {
        url: `${base(target.baseUrl)}/api/v1/repos/${ownerRepo(target.repository)}/statuses/${sha}`,
        method: 'POST',
        headers: {
          Authorization: `token ${target.token}`,
          Accept: 'application/json',
          'User-Agent': USER_AGENT,
          'Content-Type': 'application/json',
        },
        body: JSON.stringify({ state: status.state, ...link, description, context: status.context }),
      };
    case 'gitlab': {
      // The project's full path as one URL-encoded segment: `group%2Fsub%2Fproject`.
      const project = encodeURIComponent(target.repository.replace(/^\/+|\/+$/g, ''));
      return {
        url: `${base(target.baseUrl)}/api/v4/projects/${project}/statuses/${sha}`,
        method: 'POST',
        headers: {
          'PRIVATE-TOKEN': target.token,
          Accept: 'application/json',
          'User-Agent': USER_AGENT,
          'Content-Type': 'application/json',
        },
        body: JSON.stringify({
          state: gitlabState(status.state),
          name: status.context,
          description,
          ...link,
        }),
      };
    }
  }
}

interface Remote {
  /** How it was reached: `https:`, `http:`, `ssh:`, `git:`, or `scp` for `git@host:path`. */
  readonly scheme: string;
  readonly hostname: string;
  /** `host[:port]` as given (for http(s) origins). */
  readonly host: string;
  readonly path: string;
}

const URL_SCHEMES = new Set(['http:', 'https:', 'ssh:', 'git:', 'git+ssh:', 'ssh+git:']);

function parseRemote(sourceUrl: string): Remote | undefined {
  const text = sourceUrl.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return undefined;
    }
    if (!URL_SCHEMES.has(url.protocol) || url.hostname === '') return undefined;
    let path: string;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      path = url.pathname;
    }
    return { scheme: url.protocol, hostname: url.hostname, host: url.host, path };
  }
  // scp-like `[user@]host:path`: no slash before the colon, and not a drive letter (`C:\…`).
  const scp = /^(?:[^@/:\s]+@)?([^@/:\s]{2,}|\[[^\]]+\]):(?!\/\/)(.+)$/.exec(text);
  if (scp?.[1] !== undefined && scp[2] !== undefined) {
    const hostname = scp[1].replace(/^\[|\]$/g, '');
    return { scheme: 'scp', hostname, host: hostname, path: scp[2] };
  }
  return undefined;
}

/** `owner/repo` (GitLab: `group/sub/project`) of a Git remote URL; undefined for local paths. */
export function repositoryFromUrl(sourceUrl: string): string | undefined {
  const remote = parseRemote(sourceUrl);
  if (remote === undefined) return undefined;
  const parts = remote.path
    .replace(/\/+$/, '')
    .replace(/\.git$/, '')
    .split('/')
    .filter((part) => part !== '');
  return parts.length >= 2 ? parts.join('/') : undefined;
}

/**
 * The API base for `provider` given a stack's source URL: GitHub.com's API host, a GitHub
 * Enterprise server's `/api/v3`, or the Gitea/GitLab server's origin. An ssh remote's port is
 * SSH's, so only its host is kept and https assumed; an http(s) remote keeps its scheme and port.
 */
export function defaultBaseUrl(provider: ScmProvider, sourceUrl: string): string | undefined {
  const remote = parseRemote(sourceUrl);
  if (remote === undefined) return undefined;
  const web = remote.scheme === 'http:' || remote.scheme === 'https:';
  const hostname =
    remote.hostname.includes(':') && !remote.hostname.startsWith('[')
      ? `[${remote.hostname}]`
      : remote.hostname;
  const origin = web ? `${remote.scheme}//${remote.host}` : `https://${hostname}`;
  if (provider === 'github') {
    const name = remote.hostname.toLowerCase();
    if (name === 'github.com' || name === 'www.github.com') return 'https://api.github.com';
    return `${origin}/api/v3`;
  }
  return origin;
}
