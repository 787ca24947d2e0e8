import { messageOf, scrub, SourceError, sourceError } from './errors.js';
import { elapsedMs } from '../../pkg/clock/index.js';
import {
  ensureBareRepo,
  fetchBranch,
  localBranchHead,
  newRemoteSession,
  remoteBranchHead,
} from './git_remote.js';
import { rootComposeMessage } from './discover.js';
import { fetchOverSsh, findSshPrograms, type SshPrograms } from './git_ssh.js';
import { findGitdir, parseLocation, type SourceLocation } from './location.js';
import { layoutOf, type Layout } from '../layout/index.js';
import { materializeStack, trackedFiles, type MaterializeReport } from './materialize.js';
import { resolveOptions, type GitSourceOptions, type ResolvedOptions } from './options.js';
import { createScope, type Scope } from './scope.js';
import { SnapshotMemo, buildSnapshot, normaliseRoot } from './snapshot.js';
import { cacheFingerprint, readMemo, writeMemo } from './snapshot_cache.js';
import { readSourceState, writeSourceState } from './source_state.js';
import { gitTreeReader, readBlob } from './tree_git.js';
import type { DesiredStack, Snapshot, SnapshotListener, Source } from './types.js';
import { LogEvent } from '../log/index.js';

export interface GitSource extends Source {
  /**
   * Restore the last snapshot from the local object store without the network (after a
   * restart with the Git server down), unless a snapshot is already there. Undefined when
   * nothing usable is stored.
   */
  loadCached(): Promise<Snapshot | undefined>;
  /** The source URL (or path) without credentials, for logs and status. */
  readonly location: string;
}

/**
 * The desired source over Git: fetches one branch of an http(s) or SSH remote into a bare repository
 * under `dataDir/repo` (or reads a local repository in place), and rebuilds and publishes the
 * snapshot only when the branch's commit changes.
 */
export function createGitSource(options: GitSourceOptions): GitSource {
  return new GitSourceImpl(resolveOptions(options));
}

class GitSourceImpl implements GitSource {
  readonly location: string;
  readonly #options: ResolvedOptions;
  readonly #layout: Layout;
  readonly #where: SourceLocation;
  readonly #scope: Scope;
  readonly #root: string;
  /** Values scrubbed from every message: the token. */
  readonly #secrets: string[];
  readonly #listeners = new Set<SnapshotListener>();
  /** What the current snapshot found, by tree id: reused where a new commit left the tree unchanged. */
  readonly #memo = new SnapshotMemo();
  /** `#memo` read from `dataDir/snapshot.json` once, before the first build. */
  #memoLoaded: Promise<void> | undefined;
  /** The memo's sizes when it was last written (or read): unchanged, it is not written again. */
  #memoWritten = '';
  /** The last good snapshot; only ever replaced by a complete newer one. */
  #current: Snapshot | undefined;
  /** What this source remembers of its remote between fetches: credentials it asked for. */
  readonly #session = newRemoteSession();
  /** `git` and `ssh` of an SSH source, found at its first fetch. */
  #programs: Promise<SshPrograms> | undefined;
  /** The refresh running now, and the one queued behind it (at most one: callers share it). */
  #running: Promise<Snapshot> | undefined;
  #queued: Promise<Snapshot> | undefined;

  constructor(options: ResolvedOptions) {
    this.#options = options;
    this.#layout = layoutOf(options.dataDir);
    this.#where = parseLocation(options.url, options.auth);
    this.#secrets = [
      options.auth?.token ?? '',
      this.#where.kind === 'http' ? (this.#where.credentials?.password ?? '') : '',
    ];
    this.#scope = createScope({ include: options.include, exclude: options.exclude });
    this.#root = normaliseRoot(options.path);
    this.location = this.#where.kind === 'local' ? this.#where.path : this.#where.url;
    if (this.#where.kind === 'ssh' && options.ssh === undefined) {
      throw new TypeError(
        'Expected `ssh` (the key file and known_hosts file) for an SSH source, got undefined',
      );
    }
  }

  current(): Snapshot | undefined {
    return this.#current;
  }

  subscribe(listener: SnapshotListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  refresh(signal?: AbortSignal): Promise<Snapshot> {
    if (this.#running === undefined) {
      this.#running = this.#refresh(signal).finally(() => {
        this.#running = undefined;
      });
      return this.#running;
    }
    // A refresh asked for while one runs must see commits pushed meanwhile: run once more after.
    this.#queued ??= this.#running
      .catch(() => undefined)
      .then(() => {
        this.#queued = undefined;
        return this.refresh(signal);
      });
    return this.#queued;
  }

  async loadCached(): Promise<Snapshot | undefined> {
    if (this.#current !== undefined) return this.#current;
    try {
      if (this.#where.kind === 'local') return await this.refresh();
      const state = await readSourceState(this.#statePath());
      if (state?.url !== this.#where.url || state.branch !== this.#options.branch) return undefined;
      const gitdir = this.#repoDir();
      const revision = await localBranchHead(gitdir, this.#options.branch);
      if (revision === undefined) return undefined;
      const fetchedAt = revision === state.revision ? new Date(state.fetchedAt) : this.#options.clock.date();
      const snapshot = await this.#build(gitdir, revision, fetchedAt);
      // A refresh may have published a newer snapshot meanwhile: never replace it.
      if (this.current() === undefined) {
        this.#publish(snapshot);
        this.#warnRootCompose(snapshot);
      }
      this.#options.logger?.info('restored the snapshot from the local repository', {
        event: LogEvent.sourceCached,
        revision,
      });
      return this.#current;
    } catch (error) {
      this.#options.logger?.warn('could not restore a snapshot from the local repository', {
        event: LogEvent.sourceCached,
        error: scrub(messageOf(error), this.#secrets),
      });
      return undefined;
    }
  }

  async materialize(stack: DesiredStack, workRoot: string): Promise<MaterializeReport> {
    const gitdir = this.#where.kind === 'local' ? await findGitdir(this.#where.path) : this.#repoDir();
    const cache = {};
    return materializeStack({
      stack,
      workRoot,
      manifestDir: this.#layout.manifests,
      readBlob: (oid) => readBlob(gitdir, oid, cache),
      ...(this.#options.secrets === undefined ? {} : { secrets: this.#options.secrets }),
    });
  }

  async stackAt(revision: string, id: string): Promise<DesiredStack | undefined> {
    const gitdir = this.#where.kind === 'local' ? await findGitdir(this.#where.path) : this.#repoDir();
    const reader = await gitTreeReader(gitdir, revision);
    const snapshot = await buildSnapshot(reader, {
      root: this.#root,
      scope: (candidate) => candidate === id && this.#scope(candidate),
      fetchedAt: this.#options.clock.date(),
      limits: this.#options.limits,
      ...(this.#options.secrets === undefined ? {} : { secrets: this.#options.secrets }),
    });
    return snapshot.stacks.get(id);
  }

  trackedFiles(id: string, workRoot: string): Promise<ReadonlySet<string>> {
    return trackedFiles(this.#layout.manifests, id, workRoot);
  }

  async #refresh(signal: AbortSignal | undefined): Promise<Snapshot> {
    const started = this.#options.clock.now();
    const logger = this.#options.logger;
    try {
      const { gitdir, revision } = await this.#resolve(signal);
      const previous = this.#current;
      if (previous?.revision === revision) {
        logger?.debug('source unchanged', {
          event: LogEvent.sourceFetch,
          result: 'unchanged',
          revision,
          durationMs: elapsedMs(this.#options.clock, started),
        });
        return previous;
      }
      const fetchedAt = this.#options.clock.date();
      const snapshot = await this.#build(gitdir, revision, fetchedAt);
      if (this.#where.kind !== 'local') {
        await writeSourceState(this.#statePath(), {
          url: this.#where.url,
          branch: this.#options.branch,
          revision,
          fetchedAt: fetchedAt.toISOString(),
        });
      }
      this.#publish(snapshot);
      logger?.info('new desired state', {
        event: LogEvent.sourceFetch,
        result: 'changed',
        revision,
        previousRevision: previous?.revision ?? null,
        stacks: snapshot.stacks.size,
        // What the build read again (the rest was reused: its tree ids did not change).
        treesRead: this.#memo.last.treesRead,
        parsed: this.#memo.last.stacksParsed,
        durationMs: elapsedMs(this.#options.clock, started),
      });
      this.#warnRootCompose(snapshot);
      return snapshot;
    } catch (error) {
      const failure =
        error instanceof SourceError
          ? error
          : sourceError(`reading ${this.location} failed`, error, this.#secrets);
      logger?.warn(failure.message, {
        event: LogEvent.sourceFetch,
        result: 'failure',
        durationMs: elapsedMs(this.#options.clock, started),
      });
      throw failure;
    }
  }

  /** The commit of the branch: for a remote, fetched first if the remote has moved. */
  async #resolve(signal: AbortSignal | undefined): Promise<{ gitdir: string; revision: string }> {
    const { branch } = this.#options;
    if (this.#where.kind === 'local') {
      const gitdir = await findGitdir(this.#where.path);
      const revision = await localBranchHead(gitdir, branch);
      if (revision === undefined) throw new SourceError(`branch \`${branch}\` not found in ${this.location}`);
      return { gitdir, revision };
    }
    const gitdir = this.#repoDir();
    const timeout = AbortSignal.timeout(this.#options.fetchTimeoutMs);
    if (this.#where.kind === 'ssh')
      return { gitdir, revision: await this.#fetchSsh(gitdir, signal, timeout) };
    const remote = {
      url: this.#where.url,
      credentials: this.#where.credentials,
      signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
      session: this.#session,
    };
    try {
      await ensureBareRepo(gitdir, branch);
      const { head, advertisement } = await remoteBranchHead(remote, branch);
      if (head === undefined) throw new SourceError(`branch \`${branch}\` not found on ${this.location}`);
      const local = await localBranchHead(gitdir, branch);
      if (local === head) return { gitdir, revision: head };
      return { gitdir, revision: await fetchBranch(remote, gitdir, branch, advertisement) };
    } catch (error) {
      if (error instanceof SourceError) throw error;
      const reason = timeout.aborted
        ? `timed out after ${this.#options.fetchTimeoutMs} ms`
        : describeFetchError(error);
      throw new SourceError(scrub(`fetching ${this.location} failed: ${reason}`, this.#secrets), {
        cause: error,
      });
    }
  }

  /**
   * An SSH remote: the system git fetches the branch into the same bare repository (one SSH
   * connection, no pack when the branch has not moved; see git_ssh.ts), read as any other.
   */
  async #fetchSsh(gitdir: string, signal: AbortSignal | undefined, timeout: AbortSignal): Promise<string> {
    const where = this.#where;
    const ssh = this.#options.ssh;
    if (where.kind !== 'ssh' || ssh === undefined) throw new Error('not an SSH source');
    const { branch, fetchTimeoutMs } = this.#options;
    try {
      this.#programs ??= findSshPrograms([this.#options.dataDir]);
      const programs = await this.#programs.catch((error: unknown) => {
        this.#programs = undefined;
        throw error;
      });
      await ensureBareRepo(gitdir, branch);
      await fetchOverSsh({
        remote: where,
        auth: ssh,
        gitdir,
        branch,
        signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
        connectTimeoutSeconds: Math.max(1, Math.min(30, Math.ceil(fetchTimeoutMs / 2000))),
        programs,
      });
      const head = await localBranchHead(gitdir, branch);
      if (head === undefined) throw new Error(`git fetch left no readable \`refs/heads/${branch}\``);
      return head;
    } catch (error) {
      if (error instanceof SourceError) throw error;
      const reason = timeout.aborted ? `timed out after ${fetchTimeoutMs} ms` : messageOf(error);
      throw new SourceError(scrub(`fetching ${this.location} failed: ${reason}`, this.#secrets), {
        cause: error,
      });
    }
  }

  async #build(gitdir: string, revision: string, fetchedAt: Date): Promise<Snapshot> {
    this.#memoLoaded ??= this.#loadMemo();
    await this.#memoLoaded;
    let snapshot: Snapshot;
    try {
      const reader = await gitTreeReader(gitdir, revision);
      snapshot = await buildSnapshot(reader, {
        root: this.#root,
        scope: this.#scope,
        fetchedAt,
        memo: this.#memo,
        limits: this.#options.limits,
        ...(this.#options.secrets === undefined ? {} : { secrets: this.#options.secrets }),
      });
    } catch (error) {
      throw sourceError(`reading commit ${revision} of ${this.location} failed`, error, this.#secrets);
    }
    await this.#saveMemo();
    return snapshot;
  }

  #fingerprint(): string {
    return cacheFingerprint({ root: this.#root, limits: this.#options.limits });
  }

  /** `#memo` from `snapshot.json`, when one was written under this source's settings. */
  async #loadMemo(): Promise<void> {
    const found = await readMemo(this.#layout.snapshotCache, this.#memo, this.#fingerprint());
    if (found) this.#memoWritten = this.#memoSizes();
    this.#options.logger?.debug(found ? 'read the snapshot cache' : 'no usable snapshot cache', {
      event: LogEvent.sourceCache,
      result: found ? 'read' : 'none',
      stacks: this.#memo.stacks.size,
    });
  }

  /**
   * Keep `#memo` for the next start, when this build changed it. A cache: failing to write it
   * costs the next start a full read, never this build.
   */
  async #saveMemo(): Promise<void> {
    const { treesRead, stacksParsed } = this.#memo.last;
    const sizes = this.#memoSizes();
    if (treesRead <= 1 && stacksParsed === 0 && sizes === this.#memoWritten) return;
    try {
      await writeMemo(this.#layout.snapshotCache, this.#memo, this.#fingerprint());
      this.#memoWritten = sizes;
    } catch (error) {
      this.#options.logger?.warn(
        'could not write the snapshot cache; the next start reads every stack again',
        {
          event: LogEvent.sourceCache,
          result: 'write_failed',
          error: messageOf(error),
        },
      );
    }
  }

  #memoSizes(): string {
    return `${this.#memo.dirs.size}/${this.#memo.stacks.size}`;
  }

  #publish(snapshot: Snapshot): void {
    this.#current = snapshot;
    for (const listener of [...this.#listeners]) {
      try {
        listener(snapshot);
      } catch (error) {
        this.#options.logger?.error('a snapshot listener failed', {
          event: LogEvent.sourceListener,
          error: messageOf(error),
        });
      }
    }
  }

  /**
   * Compose files directly at `source.path` deploy nothing (the layout of a `git pull && docker
   * compose up -d` cron job): say so, once per new revision, naming them and how to move them.
   */
  #warnRootCompose(snapshot: Snapshot): void {
    const files = snapshot.rootComposeFiles ?? [];
    if (files.length === 0) return;
    const where = this.#root === '' ? 'the repository root' : `\`${this.#root}\``;
    this.#options.logger?.warn(rootComposeMessage(files, where), {
      event: LogEvent.sourceRootCompose,
      files,
      revision: snapshot.revision,
    });
  }

  #repoDir(): string {
    return this.#layout.repo;
  }

  #statePath(): string {
    return this.#layout.sourceState;
  }
}

/** isomorphic-git's HttpError says `HTTP Error: 401 Unauthorized`; say what it means. */
function describeFetchError(error: unknown): string {
  const data = (error as { data?: { statusCode?: unknown } } | undefined)?.data;
  if (data?.statusCode === 401 || data?.statusCode === 403) {
    return `authentication failed (HTTP ${String(data.statusCode)}): check source.auth username and token`;
  }
  return messageOf(error);
}
