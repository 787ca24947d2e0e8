import fs from 'node:fs';
import git from 'isomorphic-git';
import type http from 'isomorphic-git/http/node';
import { boundedClient } from './git_http.js';
import type { Credentials } from './location.js';

/** One conversation with an http(s) remote: URL without credentials, credentials, abort signal. */
export interface Remote {
  readonly url: string;
  readonly credentials: Credentials | undefined;
  /** Aborts every request (the caller's signal combined with the fetch timeout). */
  readonly signal: AbortSignal;
}

/** isomorphic-git's node client, with the remote's signal on every request and error bodies bounded. */
function client(remote: Remote): typeof http {
  return boundedClient(remote.signal);
}

/** Credentials are only ever handed over when the server asks (401), never put in a URL or config. */
function authOptions(remote: Remote): Pick<Parameters<typeof git.fetch>[0], 'onAuth'> {
  const { credentials } = remote;
  if (credentials === undefined) return {};
  // No onAuthFailure: rejected credentials end in isomorphic-git's 401 HttpError, no retry loop.
  return { onAuth: () => ({ username: credentials.username, password: credentials.password }) };
}

/**
 * The commit the remote branch points at, from one ref advertisement (protocol v1: a single
 * `GET info/refs`, no pack), or undefined when the remote has no such branch.
 */
export async function remoteBranchHead(remote: Remote, branch: string): Promise<string | undefined> {
  const info = await git.getRemoteInfo2({
    http: client(remote),
    url: remote.url,
    protocolVersion: 1,
    ...authOptions(remote),
  });
  return info.refs?.find((ref) => ref.ref === `refs/heads/${branch}`)?.oid;
}

/**
 * Fetch one branch into the bare `gitdir` and point `refs/heads/<branch>` at what was fetched,
 * whether or not it descends from what was there (a force-push is followed). Returns the commit.
 */
export async function fetchBranch(remote: Remote, gitdir: string, branch: string): Promise<string> {
  const result = await git.fetch({
    fs,
    http: client(remote),
    gitdir,
    url: remote.url,
    ref: branch,
    singleBranch: true,
    tags: false,
    ...authOptions(remote),
  });
  if (result.fetchHead === null) throw new Error(`the remote has no branch \`${branch}\``);
  await git.writeRef({ fs, gitdir, ref: `refs/heads/${branch}`, value: result.fetchHead, force: true });
  return result.fetchHead;
}

/** The commit `refs/heads/<branch>` points at in `gitdir`, if the branch and its commit exist. */
export async function localBranchHead(gitdir: string, branch: string): Promise<string | undefined> {
  try {
    const oid = await git.resolveRef({ fs, gitdir, ref: `refs/heads/${branch}` });
    await git.readCommit({ fs, gitdir, oid });
    return oid;
  } catch {
    return undefined;
  }
}

/**
 * An empty bare repository at `gitdir`, unless one is there already. Its config holds only a
 * forced fetch refspec (isomorphic-git needs one to record what it fetched); the URL is passed
 * on every fetch and never stored, credentials even less.
 */
export async function ensureBareRepo(gitdir: string, branch: string): Promise<void> {
  if (!fs.existsSync(`${gitdir}/HEAD`)) await git.init({ fs, gitdir, bare: true, defaultBranch: branch });
  const refspec = '+refs/heads/*:refs/remotes/origin/*';
  if ((await git.getConfig({ fs, gitdir, path: 'remote.origin.fetch' })) !== refspec) {
    await git.setConfig({ fs, gitdir, path: 'remote.origin.fetch', value: refspec });
  }
}
