/**
 * The controller: triggers → desired-source refresh → work queue → reconciler, and a clean stop.
 * It composes the pieces named after their concept: triggers.ts (poll, resync, fetch retry),
 * enqueue_mapped.ts (Docker events → stacks), reported.ts (the reported set and its series),
 * read_model.ts (what the API reads), snapshot.ts (what a new snapshot marks at once), runs.ts
 * (the runs log) and pause.ts.
 */
import { realClock, type Clock } from '../../pkg/clock/index.js';
import {
  Enqueuer,
  type RateLimitingQueue,
  createBucketRateLimiter,
  createExponentialRateLimiter,
  createMaxOfRateLimiter,
  createRateLimitingQueue,
  runWorkers,
} from '../../pkg/workqueue/index.js';
import { LogEvent } from '../log/index.js';
import type { Snapshot } from '../source/types.js';
import type { RunRecord } from '../state/index.js';
import type { StackDetail, StacksResponse } from '../status/index.js';
import { ProjectMapper } from './enqueue_mapped.js';
import { dependentsOf, setApiSuspension } from './intent.js';
import type { ControllerOptions } from './options.js';
import { Pause } from './pause.js';
import { ReadModel } from './read_model.js';
import { Coalescer } from './refresher.js';
import { ReportedStacks } from './reported.js';
import { RunLog } from './runs.js';
import { REFRESH_MIN_GAP_MS, RETRY_BUCKET, STACK_RETRY } from '../schedule/index.js';
import { advanceUnchanged } from './advance.js';
import { markQueued } from './snapshot.js';
import { SourceHealth } from './source_health.js';
import { Triggers } from './triggers.js';

/** The forced-add flag of a manual sync that may remove the stack once (`stackd sync ID --prune`). */
const PRUNE_ONCE = 'prune';

export class Controller {
  readonly #o: ControllerOptions;
  readonly queue: RateLimitingQueue;
  /** How keys are added: plainly, from a Docker event, or forced (a manual sync). */
  readonly #enqueue: Enqueuer;
  /** Refreshes, coalesced; each is given the trigger that asked for it. */
  readonly #refresh: Coalescer<string>;
  readonly #triggers: Triggers;
  readonly #mapper: ProjectMapper;
  readonly #reported: ReportedStacks;
  readonly #read: ReadModel;
  readonly #pause: Pause;
  readonly #runs: RunLog;
  readonly #clock: Clock;
  /** Snapshots a refresh publishes are handled: from start() (once the cache is loaded) to stop(). */
  #listening = false;
  #workers: Promise<void> | undefined;
  /** The last fetches' outcome, shown in the API's `source`. */
  readonly #sourceHealth: SourceHealth;
  #stopping = false;
  #unsubscribe: (() => void)[] = [];
  /** Told when what the API shows may have changed besides the state (a fetch's outcome). */
  readonly #changed = new Set<() => void>();
  /** The last snapshot whose stacks were looked at (what the next one is compared with). */
  #handled: Snapshot | undefined;

  constructor(options: ControllerOptions) {
    this.#o = options;
    const clock = options.clock ?? realClock;
    this.#clock = clock;
    this.#sourceHealth = new SourceHealth(options.sourceUrl ?? '', options.sourceBranch ?? '', clock);
    const backoff = options.backoff ?? STACK_RETRY;
    this.queue = createRateLimitingQueue({
      clock,
      rateLimiter: createMaxOfRateLimiter(
        createExponentialRateLimiter({ baseDelay: backoff.baseMs, maxDelay: backoff.maxMs }),
        createBucketRateLimiter({ ...RETRY_BUCKET, clock }),
      ),
      ...(options.hooks?.queue ? { metrics: options.hooks.queue } : {}),
    });
    this.#enqueue = new Enqueuer(this.queue);
    // A refresh that waited out the gap while stop() began does not fetch.
    this.#refresh = new Coalescer(
      (trigger) => (this.#stopping ? Promise.resolve() : this.#doRefresh(trigger)),
      { minGapMs: options.refreshMinGapMs ?? REFRESH_MIN_GAP_MS, clock },
    );
    this.#triggers = new Triggers({
      clock,
      random: options.random ?? Math.random,
      pollIntervalMs: options.pollIntervalMs,
      resyncIntervalMs: options.resyncIntervalMs,
      refresh: (trigger) => this.refresh(trigger),
      resync: () => {
        this.enqueueAll('resync');
      },
    });
    this.#pause = new Pause(options.state, options.reconcileEnabled, options.logger);
    const view = {
      source: options.source,
      informer: options.informer,
      state: options.state,
      instance: options.instance,
      inScope: options.inScope,
    };
    this.#mapper = new ProjectMapper(view);
    this.#read = new ReadModel({
      ...view,
      engine: options.engine,
      reconcileEnabled: () => this.reconcileEnabled,
      sourceStatus: () => this.#sourceHealth.view(),
    });
    this.#reported = new ReportedStacks(options.state, options.hooks);
    this.#runs = new RunLog(options.state, clock);
  }

  get reconcileEnabled(): boolean {
    return this.#pause.enabled;
  }

  get lastFetchError(): string | null {
    return this.#sourceHealth.lastError;
  }

  /** Ready: a desired state is known, and the Docker engine answers and starts containers. */
  ready(): boolean {
    return this.notReadyReason() === undefined;
  }

  notReadyReason(): string | undefined {
    return this.#read.notReadyReason();
  }

  async start(): Promise<void> {
    this.#reported.assumeRecorded();
    this.#reported.report(this.knownIds());
    // The desired state kept locally (the source logs `source.cached`): usable with Git down.
    const cached = await this.#o.source.loadCached?.();
    if (cached !== undefined) this.#sourceHealth.restored(cached.fetchedAt);
    this.#handled = cached;
    this.#listening = true;
    this.#unsubscribe.push(
      this.#o.informer.onChange((project) => {
        this.#onProject(project);
      }),
    );
    await this.#o.informer.start();
    this.#mapper.learnObserved();
    // Stacks the engine runs as ours, not recorded yet, are reported (as `unknown`) from now on.
    this.#reported.report(this.knownIds());
    this.#workers = runWorkers(this.queue, {
      handler: async (key, signal, { forced, flags }) => {
        const before = this.#o.state.stack(key);
        try {
          await this.#o.reconciler.reconcile(
            { stack: key, force: forced, prune: flags.has(PRUNE_ONCE) },
            signal,
          );
        } finally {
          const after = this.#o.state.stack(key);
          // No record after a reconcile: it was dropped (a `missing` stack forgotten) or never
          // made; either way the stack may have left the known set. Rare, so recomputing is cheap.
          if (after === undefined) this.#reported.report(this.knownIds());
          const record = after ?? before;
          this.#runs.finish(key, record?.status ?? 'unknown', record?.message ?? '', record?.history[0]);
          // dependsOn: the stacks waiting for this one look again (and apply once it is synced).
          for (const id of dependentsOf(this.#o.source.current(), key, before, after, this.#o.state))
            this.#enqueue.add(id);
        }
      },
      concurrency: 1,
      enqueuer: this.#enqueue,
    });
    // A snapshot restored by loadCached() was published before any refresh listened.
    const restored = this.#o.source.current();
    if (restored !== undefined) {
      this.#o.hooks?.revision?.(restored.revision);
      this.enqueueAll('startup');
    }
    void this.refresh('startup').catch(() => undefined);
    this.#triggers.start();
    if (restored !== undefined) this.#o.images?.watch(restored);
    this.#o.images?.start();
  }

  /**
   * Registry pushes of `name:tag` (the registry webhook): the watched tags among them are checked
   * now; answers how many watched services use them.
   */
  imagesPushed(pushes: readonly { readonly name: string; readonly tag: string }[]): number {
    return this.#o.images?.pushed(pushes) ?? 0;
  }

  /** The digest watcher found a new digest of a tag these stacks use: each is looked at. */
  imagesChanged(ids: readonly string[]): void {
    if (this.#stopping) return;
    const known = new Set(this.knownIds());
    const stacks = ids.filter((id) => known.has(id));
    if (stacks.length === 0) return;
    this.#runs.open('image', this.#o.source.current()?.revision ?? null, stacks);
    for (const id of stacks) this.#enqueue.add(id);
  }

  /**
   * A refresh (fetch + enqueue what changed), coalesced with any other in flight. `revision`, when
   * the trigger names one (a webhook's `after`), skips the fetch if the desired state is already
   * at that commit and no refresh is under way: a redelivered or duplicated push costs nothing.
   */
  refresh(trigger: string, revision?: string): Promise<void> {
    if (this.#stopping) return Promise.resolve();
    if (
      revision !== undefined &&
      this.#sourceHealth.lastError === null &&
      // A refresh in flight may be about to publish another revision (a force-push back to this
      // one, say): then the named revision must be fetched again, so the short-cut waits its turn.
      !this.#refresh.busy() &&
      revision === this.#o.source.current()?.revision
    ) {
      this.#o.logger.debug(`desired state already at ${revision.slice(0, 12)}; nothing to fetch`, {
        event: LogEvent.sourceFetch,
        result: 'current',
        trigger,
        revision,
      });
      return Promise.resolve();
    }
    return this.#refresh.trigger(trigger);
  }

  /**
   * Reconcile one stack now, even if it looks in sync; with `prune`, remove it this once if it is
   * gone from Git, even with `reconcile.prune` off. False if no such stack.
   */
  sync(id: string, options: { readonly prune?: boolean } = {}): boolean {
    if (!this.knownIds().includes(id)) return false;
    this.#runs.open('manual', this.#o.source.current()?.revision ?? null, [id]);
    this.#enqueue.addForced(id, options.prune === true ? [PRUNE_ONCE] : []);
    return true;
  }

  /**
   * Suspend one stack (a reason) or resume it (null), through the API: kept in its record across
   * restarts, and reconciled at once (a resume applies what changed meanwhile). False if no such
   * stack.
   */
  suspend(id: string, reason: string | null): boolean {
    if (!this.knownIds().includes(id)) return false;
    const project =
      this.#o.source.current()?.stacks.get(id)?.project ?? this.#o.state.stack(id)?.project ?? '';
    const record = setApiSuspension(this.#o.state, id, project, reason, this.#clock.date().toISOString());
    this.#o.hooks?.stackRecord?.(id, record);
    this.#o.logger.info(
      `${reason === null ? 'resumed' : 'suspended'} ${id}${reason === null ? '' : `: ${reason}`}`,
      {
        event: reason === null ? LogEvent.stackResumed : LogEvent.stackSuspended,
        stack: id,
        ...(reason === null ? {} : { reason }),
      },
    );
    this.#runs.open(reason === null ? 'resume' : 'suspend', this.#o.source.current()?.revision ?? null, [id]);
    this.#enqueue.add(id);
    return true;
  }

  setReconcileEnabled(enabled: boolean): void {
    this.#pause.set(enabled);
    if (enabled) this.enqueueAll('resume');
  }

  knownIds(): string[] {
    return this.#read.knownIds();
  }

  /** Look at every known stack; those in `done` were already found synced (their run says so). */
  enqueueAll(trigger: string, done: ReadonlySet<string> = new Set()): void {
    const ids = this.knownIds();
    this.#reported.report(ids);
    this.#runs.open(trigger, this.#o.source.current()?.revision ?? null, ids);
    for (const id of ids) {
      if (done.has(id)) this.#runs.finish(id, 'synced', '');
      else this.#enqueue.add(id);
    }
  }

  stacks(): StacksResponse {
    return this.#read.stacks();
  }

  stack(id: string): StackDetail | undefined {
    return this.#read.stack(id);
  }

  runs(): readonly RunRecord[] {
    return this.#runs.list();
  }

  /**
   * Calls `listener` whenever what `stacks()`, `stack()` or `runs()` answer may have changed (a
   * record, a run, the pause, a fetch's outcome); returns the unsubscribe. The status page's event
   * stream listens, and coalesces.
   */
  onChange(listener: () => void): () => void {
    const offState = this.#o.state.onChange(listener);
    this.#changed.add(listener);
    return () => {
      offState();
      this.#changed.delete(listener);
    };
  }

  /** Stop taking work, let the running reconcile finish, flush state. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#listening = false;
    this.#triggers.stop();
    await this.#o.images?.stop();
    for (const u of this.#unsubscribe) u();
    this.queue.shutDown();
    await this.#workers;
    await this.#refresh.idle();
    await this.#o.informer.stop();
    await this.#o.state.flush();
  }

  async #doRefresh(trigger: string): Promise<void> {
    const clock = this.#clock;
    const started = clock.now();
    const before = this.#o.source.current()?.revision;
    // A snapshot this fetch publishes is handled as brought by `trigger`.
    const unsubscribe = this.#o.source.subscribe((snapshot) => {
      if (this.#listening) this.#onSnapshot(snapshot, trigger);
    });
    try {
      // The source logs the fetch itself (`source.fetch`: changed, unchanged or failed).
      await this.#o.source.refresh();
      this.#o.hooks?.fetch?.('success', (clock.now() - started) / 1000);
      this.#triggers.fetchSucceeded();
      this.#sourceHealth.succeeded();
    } catch (error) {
      this.#o.hooks?.fetch?.('failure', (clock.now() - started) / 1000);
      this.#sourceHealth.failed((error as Error).message);
      const retryMs = this.#triggers.fetchFailed();
      this.#o.logger.info(
        `keeping the last good desired state; next fetch in ${Math.round(retryMs / 1000)}s`,
        {
          event: LogEvent.sourceRetry,
          reason: (error as Error).message,
          retryInMs: retryMs,
          trigger,
          revision: before ?? null,
        },
      );
      throw error;
    } finally {
      unsubscribe();
      for (const listener of this.#changed) listener();
    }
  }

  #onSnapshot(snapshot: Snapshot, trigger: string): void {
    const previous = this.#handled;
    this.#handled = snapshot;
    this.#o.hooks?.revision?.(snapshot.revision);
    this.#o.images?.watch(snapshot);
    markQueued(this.#o.state, this.#o.hooks, snapshot, this.reconcileEnabled);
    // Synced stacks the commit left as they were advance their synced revision at once; every
    // other stack is looked at (changed ones are applied). Paused, every one is looked at.
    const advanced = this.reconcileEnabled
      ? advanceUnchanged({
          state: this.#o.state,
          hooks: this.#o.hooks,
          pending: (id) => this.queue.pending(id) || this.queue.numRequeues(id) > 0,
          previous,
          snapshot,
          at: this.#clock.date().toISOString(),
        })
      : new Set<string>();
    if (advanced.size > 0) {
      this.#o.logger.debug(`${advanced.size} unchanged stacks synced at ${snapshot.revision.slice(0, 12)}`, {
        event: LogEvent.reconcileSkip,
        reason: 'unchanged',
        stacks: advanced.size,
        revision: snapshot.revision,
      });
    }
    this.enqueueAll(trigger, advanced);
  }

  #onProject(project: string): void {
    if (this.#stopping) return;
    for (const id of this.#mapper.map(project)) this.#enqueue.addObserved(id);
  }
}
