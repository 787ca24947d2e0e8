/** Triggers → desired-source refresh → work queue → reconciler; resync, polling, shutdown. */
import {
  type RateLimitingQueue,
  createRateLimitingQueue,
  runWorkers,
  createDefaultControllerRateLimiter,
  createMaxOfRateLimiter,
  createExponentialRateLimiter,
  createBucketRateLimiter,
} from '../../pkg/workqueue/index.js';
import type { Informer } from '../informer/types.js';
import type { Logger } from '../log/index.js';
import {
  type EngineHealth,
  type Reconciler,
  runtimeStacks,
  stackIds,
  stackStatus,
  stacksResponse,
} from '../reconciler/index.js';
import type { Snapshot, Source } from '../source/types.js';
import type { RunRecord, StackRecord, StateStore } from '../state/index.js';
import type { HistoryEntry, StackStatus, StacksResponse } from '../status/index.js';
import type { ControllerHooks } from './hooks.js';
import { Coalescer } from './refresher.js';
import { RunLog } from './runs.js';
import { LogEvent } from '../log/index.js';

export interface ControllerOptions {
  readonly source: Source & { loadCached?: () => Promise<Snapshot | undefined> };
  readonly informer: Informer;
  readonly reconciler: Reconciler;
  readonly state: StateStore;
  readonly logger: Logger;
  readonly instance: string;
  readonly inScope: (id: string) => boolean;
  /** `reconcile.enabled` from the configuration; a value set through the API (persisted) wins. */
  readonly reconcileEnabled: boolean;
  /** Milliseconds; 0 = no polling. */
  readonly pollIntervalMs: number;
  /** Milliseconds; 0 = no periodic resync. */
  readonly resyncIntervalMs: number;
  readonly hooks?: ControllerHooks;
  /** Per-key retry backoff. @default 2 s doubling to 5 min */
  readonly backoff?: { readonly baseMs: number; readonly maxMs: number };
  /** @default Math.random */
  readonly random?: () => number;
  /** The least time from a refresh's start to one queued behind it. @default REFRESH_MIN_GAP_MS */
  readonly refreshMinGapMs?: number;
  /** Whether the engine starts containers (set by the reconciler's start watch). @default always */
  readonly engine?: Pick<EngineHealth, 'stalled'>;
}

export interface StackDetail extends StackStatus {
  readonly history: readonly HistoryEntry[];
}

const FETCH_RETRY_BASE_MS = 5_000;
/** A refresh queued behind a running one starts this long after it: a flood costs ~1 fetch a second. */
export const REFRESH_MIN_GAP_MS = 1_000;
const FETCH_RETRY_MAX_MS = 300_000;

/** What the hooks are told about a stack that is reported but has no record yet. */
const UNKNOWN_RECORD: StackRecord = Object.freeze({
  project: '',
  status: 'unknown',
  message: '',
  synced: null,
  lastResult: null,
  services: Object.freeze([]),
  history: Object.freeze([]),
});

/**
 * Walks two lists sorted in code-unit order (`Array.prototype.sort`'s default) and calls `removed`
 * for each id only in `before`, `added` for each only in `after`. Allocates nothing.
 */
export function diffSorted(
  before: readonly string[],
  after: readonly string[],
  removed: (id: string) => void,
  added: (id: string) => void,
): void {
  let i = 0;
  let j = 0;
  while (i < before.length || j < after.length) {
    const b = before[i];
    const a = after[j];
    if (b === a) {
      i++;
      j++;
    } else if (a === undefined || (b !== undefined && b < a)) {
      removed(b as string);
      i++;
    } else {
      added(a);
      j++;
    }
  }
}

export class Controller {
  readonly #o: ControllerOptions;
  readonly queue: RateLimitingQueue;
  readonly #refresh: Coalescer;
  /** Stacks asked for by a manual sync: applied even if they look in sync. */
  readonly #forced = new Set<string>();
  #workers: Promise<void> | undefined;
  #pollTimer: NodeJS.Timeout | undefined;
  #resyncTimer: NodeJS.Timeout | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #fetchFailures = 0;
  #lastFetchError: string | null = null;
  #stopping = false;
  #unsubscribe: (() => void)[] = [];
  readonly #runs: RunLog;
  #trigger = 'startup';
  /**
   * The stack ids last reported (sorted as `knownIds()` sorts): the hooks have been told about
   * these, and are told when one leaves (`stackGone`) or a new one has no record yet (`unknown`).
   */
  #reported: readonly string[] = [];
  /** Project → the stack id its containers carried when last seen (see #onProject). */
  readonly #projectOwners = new Map<string, string>();

  constructor(options: ControllerOptions) {
    this.#o = options;
    this.queue = createRateLimitingQueue({
      rateLimiter: options.backoff
        ? createMaxOfRateLimiter(
            createExponentialRateLimiter({
              baseDelay: options.backoff.baseMs,
              maxDelay: options.backoff.maxMs,
            }),
            createBucketRateLimiter({ qps: 10, burst: 100 }),
          )
        : createDefaultControllerRateLimiter(),
      ...(options.hooks?.queue ? { metrics: options.hooks.queue } : {}),
    });
    // A refresh that waited out the gap while stop() began does not fetch.
    this.#refresh = new Coalescer(() => (this.#stopping ? Promise.resolve() : this.#doRefresh()), {
      minGapMs: options.refreshMinGapMs ?? REFRESH_MIN_GAP_MS,
    });
    this.#runs = new RunLog(options.state);
  }

  get reconcileEnabled(): boolean {
    return this.#o.state.data.reconcileEnabled ?? this.#o.reconcileEnabled;
  }

  get lastFetchError(): string | null {
    return this.#lastFetchError;
  }

  /** Ready: a desired state is known, and the Docker engine answers and starts containers. */
  ready(): boolean {
    return this.notReadyReason() === undefined;
  }

  notReadyReason(): string | undefined {
    if (this.#o.source.current() === undefined) {
      return 'no desired state loaded yet (first fetch pending or failing)';
    }
    const observation = this.#o.informer.current();
    if (!observation.up) return `the Docker engine is not reachable: ${observation.error ?? 'no answer'}`;
    return this.#o.engine?.stalled();
  }

  async start(): Promise<void> {
    // Whoever wired the hooks may have told them about every recorded stack, in scope or not
    // (`stackd run` does, and already serves /metrics): take out-of-scope ones away at once.
    this.#reported = Object.keys(this.#o.state.data.stacks).sort();
    this.#report(this.knownIds());
    // The desired state kept locally (the source logs `source.cached`): usable with Git down.
    await this.#o.source.loadCached?.();
    this.#unsubscribe.push(
      this.#o.source.subscribe((snapshot) => {
        this.#onSnapshot(snapshot);
      }),
    );
    this.#unsubscribe.push(
      this.#o.informer.onChange((project) => {
        this.#onProject(project);
      }),
    );
    await this.#o.informer.start();
    for (const [id, observed] of runtimeStacks(this.#o.informer.current(), this.#o.instance))
      this.#projectOwners.set(observed.project, id);
    // Stacks the engine runs as ours, not recorded yet, are reported (as `unknown`) from now on.
    this.#report(this.knownIds());
    this.#workers = runWorkers(this.queue, {
      handler: async (key, signal) => {
        const force = this.#forced.delete(key);
        const before = this.#o.state.stack(key);
        try {
          await this.#o.reconciler.reconcile({ stack: key, force }, signal);
        } finally {
          const after = this.#o.state.stack(key);
          // No record after a reconcile: it was dropped (a `missing` stack forgotten) or never
          // made; either way the stack may have left the known set. Rare, so recomputing is cheap.
          if (after === undefined) this.#report(this.knownIds());
          const record = after ?? before;
          this.#runs.finish(key, record?.status ?? 'unknown', record?.message ?? '');
        }
      },
      concurrency: 1,
    });
    // A snapshot restored by loadCached() was published before we subscribed.
    const restored = this.#o.source.current();
    if (restored !== undefined) {
      this.#o.hooks?.revision?.(restored.revision);
      this.enqueueAll('startup');
    }
    void this.refresh('startup').catch(() => undefined);
    this.#schedulePoll();
    this.#scheduleResync();
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
      this.#lastFetchError === null &&
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
    this.#trigger = trigger;
    return this.#refresh.trigger();
  }

  /** Reconcile one stack now, even if it looks in sync. False if no such stack. */
  sync(id: string): boolean {
    if (!this.knownIds().includes(id)) return false;
    this.#forced.add(id);
    this.#runs.open('manual', this.#o.source.current()?.revision ?? null, [id]);
    this.queue.add(id);
    return true;
  }

  setReconcileEnabled(enabled: boolean): void {
    this.#o.state.setReconcileEnabled(enabled);
    this.#o.logger.info(`reconciliation ${enabled ? 'resumed' : 'paused'} through the API`, {
      event: enabled ? LogEvent.reconcileResumed : LogEvent.reconcilePaused,
    });
    if (enabled) this.enqueueAll('resume');
  }

  knownIds(): string[] {
    return stackIds(
      this.#o.source.current(),
      this.#o.informer.current(),
      Object.keys(this.#o.state.data.stacks),
      this.#o.instance,
      this.#o.inScope,
    );
  }

  enqueueAll(trigger: string): void {
    const ids = this.knownIds();
    this.#report(ids);
    this.#runs.open(trigger, this.#o.source.current()?.revision ?? null, ids);
    for (const id of ids) this.queue.add(id);
  }

  stacks(): StacksResponse {
    return stacksResponse(
      this.knownIds(),
      this.#o.state.data.stacks,
      this.#o.source.current(),
      this.reconcileEnabled,
    );
  }

  stack(id: string): StackDetail | undefined {
    if (!this.knownIds().includes(id)) return undefined;
    const record = this.#o.state.stack(id);
    return { ...stackStatus(id, record, this.#o.source.current()), history: record?.history ?? [] };
  }

  runs(): readonly RunRecord[] {
    return this.#runs.list();
  }

  /** Stop taking work, let the running reconcile finish, flush state. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    for (const t of [this.#pollTimer, this.#resyncTimer, this.#retryTimer]) if (t) clearTimeout(t);
    for (const u of this.#unsubscribe) u();
    this.queue.shutDown();
    await this.#workers;
    await this.#refresh.idle();
    await this.#o.informer.stop();
    await this.#o.state.flush();
  }

  async #doRefresh(): Promise<void> {
    const started = performance.now();
    const before = this.#o.source.current()?.revision;
    try {
      // The source logs the fetch itself (`source.fetch`: changed, unchanged or failed).
      await this.#o.source.refresh();
      this.#o.hooks?.fetch?.('success', (performance.now() - started) / 1000);
      this.#fetchFailures = 0;
      this.#lastFetchError = null;
    } catch (error) {
      this.#o.hooks?.fetch?.('failure', (performance.now() - started) / 1000);
      this.#fetchFailures++;
      this.#lastFetchError = (error as Error).message;
      const retryMs = Math.min(FETCH_RETRY_MAX_MS, FETCH_RETRY_BASE_MS * 2 ** (this.#fetchFailures - 1));
      this.#o.logger.info(
        `keeping the last good desired state; next fetch in ${Math.round(retryMs / 1000)}s`,
        {
          event: LogEvent.sourceRetry,
          reason: (error as Error).message,
          retryInMs: retryMs,
          trigger: this.#trigger,
          revision: before ?? null,
        },
      );
      if (!this.#stopping) {
        if (this.#retryTimer) clearTimeout(this.#retryTimer);
        this.#retryTimer = setTimeout(() => void this.refresh('retry').catch(() => undefined), retryMs);
        this.#retryTimer.unref();
      }
      throw error;
    }
  }

  #onSnapshot(snapshot: Snapshot): void {
    this.#o.hooks?.revision?.(snapshot.revision);
    this.#markQueued(snapshot);
    // Every stack is looked at: changed ones are applied, unchanged ones advance their synced
    // revision from the caches without touching the runtime.
    this.enqueueAll(this.#trigger);
  }

  /**
   * A stack reported `synced` whose desired hash the new snapshot changes is not synced any more:
   * say so now (`out_of_sync`, "queued"), in the API and /metrics, not when the queue reaches it.
   */
  #markQueued(snapshot: Snapshot): void {
    for (const [id, desired] of snapshot.stacks) {
      const record = this.#o.state.stack(id);
      if (record?.status !== 'synced' || record.synced?.composeHash === desired.composeHash) continue;
      const changed = `the desired state changed at ${snapshot.revision.slice(0, 12)}`;
      const queued: StackRecord = {
        ...record,
        status: 'out_of_sync',
        // Paused, nothing is queued to apply it: say so rather than "queued".
        message: this.reconcileEnabled ? `queued: ${changed}` : `reconciliation disabled; ${changed}`,
      };
      this.#o.state.setStack(id, queued);
      this.#o.hooks?.stackRecord?.(id, queued);
    }
  }

  /**
   * `ids` (sorted, from `knownIds()`) is now the set of stacks reported: the hooks learn which left
   * it (`stackGone`: their series go) and which joined it without a record yet (reported `unknown`,
   * as the API does). One merge walk over two sorted lists: nothing allocated.
   */
  #report(ids: readonly string[]): void {
    const hooks = this.#o.hooks;
    if (hooks?.stackGone !== undefined || hooks?.stackRecord !== undefined) {
      diffSorted(
        this.#reported,
        ids,
        (id) => hooks.stackGone?.(id),
        (id) => {
          if (this.#o.state.stack(id) === undefined) hooks.stackRecord?.(id, UNKNOWN_RECORD);
        },
      );
    }
    this.#reported = ids;
  }

  #onProject(project: string): void {
    if (this.#stopping) return;
    const add = (id: string): void => {
      // A stack waiting out its backoff is retried by the queue; events (often caused by the
      // failing apply itself, or a crash-looping container) must not re-run it sooner.
      if (this.queue.numRequeues(id) === 0) this.queue.add(id);
    };
    // The stack a project last ran as: once its containers are gone (a renamed stack's old project
    // taken down by hand), nothing else links the project to the stack waiting for it to go.
    const owner = this.#projectOwners.get(project);
    if (owner !== undefined && this.#o.inScope(owner)) add(owner);
    if (!this.#o.informer.current().projects.has(project)) this.#projectOwners.delete(project);
    const snapshot = this.#o.source.current();
    for (const stack of snapshot?.stacks.values() ?? []) {
      if (stack.project === project) {
        this.#projectOwners.set(project, stack.id);
        add(stack.id);
        return;
      }
    }
    for (const [id, observed] of runtimeStacks(this.#o.informer.current(), this.#o.instance)) {
      if (observed.project !== project) continue;
      this.#projectOwners.set(project, id);
      if (this.#o.inScope(id)) add(id);
    }
    for (const [id, record] of Object.entries(this.#o.state.data.stacks)) {
      if (record.project === project && this.#o.inScope(id)) add(id);
    }
  }

  #schedulePoll(): void {
    if (this.#o.pollIntervalMs <= 0 || this.#stopping) return;
    const jitter = 1 + (this.#o.random ?? Math.random)() * 0.1;
    this.#pollTimer = setTimeout(() => {
      void this.refresh('poll')
        .catch(() => undefined)
        .finally(() => {
          this.#schedulePoll();
        });
    }, this.#o.pollIntervalMs * jitter);
    this.#pollTimer.unref();
  }

  #scheduleResync(): void {
    if (this.#o.resyncIntervalMs <= 0 || this.#stopping) return;
    this.#resyncTimer = setTimeout(() => {
      this.enqueueAll('resync');
      this.#scheduleResync();
    }, this.#o.resyncIntervalMs);
    this.#resyncTimer.unref();
  }
}
