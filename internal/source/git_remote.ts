import fs from 'node:fs';
import git from 'isomorphic-git';
import type http from 'isomorphic-git/http/node';
import { boundedClient, replay } from './git_http.js';
import type { Credentials } from './location.js';

/** One conversation with an http(s) remote: URL without credentials, credentials, abort signal. */
export interface Remote {
  readonly url: string;
  readonly credentials: Credentials | undefined;
  /** Aborts every request (the caller's signal combined with the fetch timeout). */
  readonly signal: AbortSignal;
  /** What the source remembers of this remote between conversations. */
  readonly session: RemoteSession;
}

/**
 * What one source remembers of its remote between fetches, in memory only (never written to
 * disk or logged): the Authorization header the remote accepted once it asked for credentials
 * (a 401). It goes on every later request to the remote's origin up front, so an unchanged
 * refresh of a token-protected remote is one request, not a challenge and a retry; a remote
 * that never asks is never sent credentials. Forgotten when the remote refuses it.
 */
export interface RemoteSession {
  authorization: string | undefined;
}

/** A session that remembers nothing yet. */
export function newRemoteSession(): RemoteSession {
  return { authorization: undefined };
}

/**
 * isomorphic-git's node client, with the remote's signal on every request, error bodies
 * bounded, and the session's credentials sent up front to the remote's origin (only there: a
 * redirect elsewhere drops them, as isomorphic-git does).
 */
function client(remote: Remote): typeof http {
  const inner = boundedClient(remote.signal);
  const { session } = remote;
  const origin = new URL(remote.url).origin;
  return {
    request: async (request) => {
      const ours = new URL(request.url).origin === origin;
      if (ours && session.authorization !== undefined && request.headers?.['Authorization'] === undefined) {
        request = { ...request, headers: { ...request.headers, Authorization: session.authorization } };
      }
      const response = await inner.request(request);
      const sent = request.headers?.['Authorization'];
      if (ours && sent !== undefined) {
        if (response.statusCode === 401 || response.statusCode === 403) session.authorization = undefined;
        else if (response.statusCode === 200) session.authorization = sent;
      }
      return response;
    },
  };
}

type HttpResponse = Awaited<ReturnType<typeof http.request>>;

/**
 * A ref advertisement (`GET info/refs?service=git-upload-pack`, 200) as received: handed to the
 * fetch that follows, so a changed commit costs one discovery, not two.
 */
export interface Advertisement {
  readonly url: string;
  readonly response: Omit<HttpResponse, 'body'>;
  readonly chunks: readonly Uint8Array[];
}

/** Advertisements larger than this (a repository with very many refs) are not kept. */
const MAX_ADVERTISEMENT_BYTES = 4 * 1024 * 1024;

const isAdvertisementRequest = (method: string | undefined, url: string): boolean =>
  (method ?? 'GET') === 'GET' && url.endsWith('/info/refs?service=git-upload-pack');

/** The client, keeping the successful ref advertisement it receives. */
function recordingClient(remote: Remote, keep: (a: Advertisement) => void): typeof http {
  const inner = client(remote);
  return {
    request: async (request) => {
      const response = await inner.request(request);
      const type = response.headers?.['content-type'] ?? '';
      if (
        !isAdvertisementRequest(request.method, request.url) ||
        response.statusCode !== 200 ||
        !type.startsWith('application/x-git-upload-pack-advertisement') ||
        response.body === undefined
      )
        return response;
      const chunks: Uint8Array[] = [];
      let size = 0;
      for await (const chunk of response.body) {
        chunks.push(chunk);
        size += chunk.byteLength;
      }
      const rest: Omit<HttpResponse, 'body'> = {
        url: response.url,
        method: response.method,
        statusCode: response.statusCode,
        statusMessage: response.statusMessage,
        headers: response.headers,
      };
      if (size <= MAX_ADVERTISEMENT_BYTES) {
        keep({ url: request.url, response: rest, chunks });
      }
      return { ...rest, body: replay(chunks) };
    },
  };
}

/**
 * The client, answering the first discovery of `advertisement.url` with the kept advertisement.
 * isomorphic-git sends credentials after the discovery only if the discovery asked for them, and
 * a replayed discovery asks for nothing: the session's header (accepted for the discovery) goes
 * on the requests that follow (the pack request).
 */
function replayingClient(remote: Remote, advertisement: Advertisement | undefined): typeof http {
  const inner = client(remote);
  let unused = advertisement;
  return {
    request: (request) => {
      if (
        unused !== undefined &&
        isAdvertisementRequest(request.method, request.url) &&
        request.url === unused.url
      ) {
        const { response, chunks } = unused;
        unused = undefined;
        return Promise.resolve({ ...response, body: replay(chunks) });
      }
      return inner.request(request);
    },
  };
}

/**
 * Credentials are handed over when the server asks (401) — and, once it has, up front (see
 * RemoteSession) — never put in a URL or config.
 */
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
export async function remoteBranchHead(
  remote: Remote,
  branch: string,
): Promise<{ head: string | undefined; advertisement: Advertisement | undefined }> {
  let advertisement: Advertisement | undefined;
  const info = await git.getRemoteInfo2({
    http: recordingClient(remote, (a) => (advertisement = a)),
    url: remote.url,
    protocolVersion: 1,
    ...authOptions(remote),
  });
  return { head: info.refs?.find((ref) => ref.ref === `refs/heads/${branch}`)?.oid, advertisement };
}

/**
 * Fetch one branch into the bare `gitdir` (answering its ref discovery with `advertisement`, when
 * the caller has just received one from remoteBranchHead) and point `refs/heads/<branch>` at what was fetched,
 * whether or not it descends from what was there (a force-push is followed). Returns the commit.
 */
export async function fetchBranch(
  remote: Remote,
  gitdir: string,
  branch: string,
  advertisement?: Advertisement,
): Promise<string> {
  const result = await git.fetch({
    fs,
    http: replayingClient(remote, advertisement),
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
