/**
 * When to notify: stack records in, one notification per state transition out.
 *
 * - `failed` once when a stack turns failed (or fails for another reason); the same failure again
 *   (retries, resyncs, manual syncs) is quiet, then notified again at most once per
 *   `notify.repeatInterval`, marked `repeated`.
 * - `recovered` when a stack that was notified failed is synced again; `rolled_back` when an
 *   automatic rollback happened (it stands for the failure too); `removed` when stackd took a
 *   stack down; `synced` (only if asked for) when an apply succeeded.
 * - A burst is one message per event: notices wait `notify.batchWindow` for more, and go once none
 *   came for that long and no reconcile is queued or running (at most BATCH_MAX_WINDOWS windows
 *   after the first). A stack that fails and recovers within one batch is not notified at all.
 *
 * What each stack was last notified as is rebuilt from the state at start (a stack failed when
 * stackd stopped is taken as notified), so a restart sends nothing new for a known failure.
 */
import type { Clock, TimerHandle } from '../../pkg/clock/index.js';
import type { StackRecord } from '../state/index.js';
import type { Notification, NotifyEvent, StackNotice } from './types.js';

/** A batch waits at most this many batch windows after its first notice. */
export const BATCH_MAX_WINDOWS = 6;

export interface NoticesOptions {
  readonly instance: string;
  readonly clock: Clock;
  readonly repeatIntervalMs: number;
  readonly batchWindowMs: number;
  /** The events anyone listens to: others are not even batched. */
  readonly events: ReadonlySet<NotifyEvent>;
  /** One message, ready to render per target. Must not throw. */
  readonly send: (notification: Notification) => void;
  /**
   * Whether reconciles are queued or running (the burst may not be over): a quiet window that
   * ends while busy waits on, up to the batch's deadline. @default never busy
   */
  readonly busy?: () => boolean;
}

/** Per stack: what it was last settled as, and what was notified about it. */
interface Memory {
  settled: 'synced' | 'failed' | 'missing' | undefined;
  /** The failure notified (its first line), and when (clock.now()). */
  failure: { key: string; at: number } | undefined;
  /** `at` of the newest history entry and rollback seen: a new one is an event. */
  historyAt: string | undefined;
  rollbackAt: string | undefined;
  /** The revision of the last attempt (a failure without an apply, an invalid stack, names it). */
  attempted: string | undefined;
  /** A failure (or rollback) of the current failing streak has gone out: its fix is news. */
  notified: boolean;
}

/** The first line of a failure message: what "the same reason" compares. */
const reasonKey = (message: string): string => message.split('\n', 1)[0]?.trim() ?? '';

export class Notices {
  readonly #o: NoticesOptions;
  readonly #memory = new Map<string, Memory>();
  /** By event, by stack: the notices of the open batch. */
  readonly #pending = new Map<NotifyEvent, Map<string, StackNotice>>();
  #timer: TimerHandle = undefined;
  #batchStarted = 0;

  constructor(options: NoticesOptions, recorded: Iterable<readonly [string, StackRecord]> = []) {
    this.#o = options;
    this.prime(recorded);
  }

  /** What the stacks recorded at start were (before any reconcile): known, not news. */
  prime(recorded: Iterable<readonly [string, StackRecord]>): void {
    const now = this.#o.clock.now();
    for (const [id, record] of recorded) {
      this.#memory.set(id, {
        settled: settledOf(record.status),
        failure: record.status === 'failed' ? { key: reasonKey(record.message), at: now } : undefined,
        historyAt: record.history[0]?.at,
        rollbackAt: record.rollback?.at,
        attempted: undefined,
        notified: record.status === 'failed',
      });
    }
  }

  /** A stack's record was written. */
  record(id: string, record: StackRecord): void {
    const memory = this.#entry(id);
    const latest = record.history[0];
    const newResult = latest !== undefined && latest.at !== memory.historyAt ? latest : undefined;
    memory.historyAt = latest?.at;
    const rollback =
      record.rollback != null && record.rollback.at !== memory.rollbackAt ? record.rollback : null;
    memory.rollbackAt = record.rollback?.at;
    const notice = (event: NotifyEvent, message: string, revision: string | null, extra = {}): void => {
      this.#add(event, {
        id,
        status: record.status,
        message,
        revision,
        composeHash: newResult?.composeHash ?? record.synced?.composeHash ?? null,
        changes: newResult?.changes ?? [],
        at: this.#o.clock.date().toISOString(),
        ...extra,
      });
    };
    const now = this.#o.clock.now();
    if (rollback !== null) {
      notice('rolled_back', record.message || rollback.reason, rollback.from);
      memory.failure = { key: reasonKey(record.message), at: now };
      memory.settled = 'failed';
      return;
    }
    switch (record.status) {
      case 'failed': {
        const key = reasonKey(record.message);
        const revision = newResult?.revision ?? memory.attempted ?? null;
        if (memory.settled !== 'failed' || memory.failure === undefined || memory.failure.key !== key) {
          notice('failed', record.message, revision);
          memory.failure = { key, at: now };
        } else if (now - memory.failure.at >= this.#o.repeatIntervalMs) {
          notice('failed', record.message, revision, { repeated: true });
          memory.failure = { key, at: now };
        }
        memory.settled = 'failed';
        return;
      }
      case 'synced': {
        const revision = record.synced?.revision ?? null;
        if (memory.settled === 'failed') {
          // A failure still waiting in the batch is stale now; fixed before anyone was told of
          // this streak: nothing to tell.
          const cancelled = this.#cancel('failed', id) || this.#cancel('rolled_back', id);
          if (!cancelled || memory.notified) notice('recovered', '', revision);
        } else if (newResult?.outcome === 'success' && newResult.action !== 'remove') {
          notice('synced', newResult.message, revision);
        }
        memory.settled = 'synced';
        memory.failure = undefined;
        memory.notified = false;
        return;
      }
      case 'missing':
        if (newResult?.action === 'remove' && newResult.outcome === 'success')
          notice('removed', newResult.message, newResult.revision);
        memory.settled = 'missing';
        memory.failure = undefined;
        memory.notified = false;
        return;
      default:
        // syncing, out_of_sync, unknown: on the way somewhere; nothing settled yet.
        return;
    }
  }

  /** An attempt at `revision` of the stack starts (ReconcileHooks.onApplyStart). */
  attempt(id: string, revision: string): void {
    this.#entry(id).attempted = revision;
  }

  #entry(id: string): Memory {
    let memory = this.#memory.get(id);
    if (memory === undefined) {
      memory = {
        settled: undefined,
        failure: undefined,
        historyAt: undefined,
        rollbackAt: undefined,
        attempted: undefined,
        notified: false,
      };
      this.#memory.set(id, memory);
    }
    return memory;
  }

  /** A stack left the reported set (out of scope, forgotten): nothing more to say about it. */
  forget(id: string): void {
    this.#memory.delete(id);
  }

  /** Send the open batch now (shutdown). */
  flush(): void {
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    const at = this.#o.clock.date().toISOString();
    const batches = [...this.#pending];
    this.#pending.clear();
    for (const [event, stacks] of batches) {
      if (stacks.size === 0) continue;
      if (event === 'failed' || event === 'rolled_back')
        for (const id of stacks.keys()) {
          const memory = this.#memory.get(id);
          if (memory !== undefined) memory.notified = true;
        }
      this.#o.send({ instance: this.#o.instance, event, at, stacks: [...stacks.values()] });
    }
  }

  #add(event: NotifyEvent, notice: StackNotice): void {
    if (!this.#o.events.has(event)) return;
    // The last word on a stack is its latest: a pending recovery of a stack failing again goes.
    if (event === 'failed' || event === 'rolled_back') this.#cancel('recovered', notice.id);
    const batch = this.#pending.get(event) ?? new Map<string, StackNotice>();
    batch.set(notice.id, notice);
    this.#pending.set(event, batch);
    this.#arm();
  }

  /** Drops a pending notice; true if there was one. */
  #cancel(event: NotifyEvent, id: string): boolean {
    return this.#pending.get(event)?.delete(id) ?? false;
  }

  /** (Re)starts the quiet window, never past BATCH_MAX_WINDOWS windows since the batch began. */
  #arm(): void {
    const { clock, batchWindowMs } = this.#o;
    const now = clock.now();
    if (this.#timer === undefined) this.#batchStarted = now;
    else clock.clearTimeout(this.#timer);
    const deadline = this.#batchStarted + BATCH_MAX_WINDOWS * batchWindowMs;
    const fire = (): void => {
      // Stacks still being reconciled may join the burst (one commit's applies run one by one).
      const left = deadline - clock.now();
      if (left > 0 && this.#o.busy?.() === true)
        this.#timer = clock.setTimeout(fire, Math.min(batchWindowMs, left));
      else this.flush();
    };
    this.#timer = clock.setTimeout(fire, Math.max(0, Math.min(batchWindowMs, deadline - now)));
  }
}

function settledOf(status: StackRecord['status']): Memory['settled'] {
  return status === 'synced' || status === 'failed' || status === 'missing' ? status : undefined;
}
