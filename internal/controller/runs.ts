/**
 * Reconciliation runs: a trigger (poll, webhook, resync, manual sync…) and the stacks it queued,
 * with each stack's outcome as it finishes. Open runs live in memory (O(1) per finished stack);
 * a run is written to the state store once, when its last stack is done.
 */
import { realClock, type Clock } from '../../pkg/clock/index.js';
import type { RunRecord, StateStore } from '../state/index.js';
import type { HistoryEntry } from '../status/index.js';

/** Open runs kept at most; the oldest is dropped (unfinished) past this. */
const OPEN_LIMIT = 50;

interface OpenRun {
  readonly id: number;
  readonly trigger: string;
  readonly revision: string | null;
  readonly startedAt: string;
  /** Stack id → outcome; `pending` until its reconcile finishes. */
  readonly stacks: Map<string, RunStack>;
  pending: number;
}

type RunStack = Omit<RunRecord['stacks'][number], 'id'>;

export class RunLog {
  readonly #state: StateStore;
  /** Stamps `startedAt` and `finishedAt` (`date()`). */
  readonly #clock: Clock;
  readonly #open = new Map<number, OpenRun>();
  /** Open runs waiting for a stack, by stack id. */
  readonly #waiting = new Map<string, Set<OpenRun>>();
  #seq: number;

  constructor(state: StateStore, clock: Clock = realClock) {
    this.#state = state;
    this.#clock = clock;
    this.#seq = state.data.runs[0]?.id ?? 0;
  }

  open(trigger: string, revision: string | null, ids: readonly string[]): void {
    if (ids.length === 0) return;
    const run: OpenRun = {
      id: ++this.#seq,
      trigger,
      revision,
      startedAt: this.#clock.date().toISOString(),
      stacks: new Map(ids.map((id) => [id, { outcome: 'pending', message: '' }])),
      pending: ids.length,
    };
    this.#open.set(run.id, run);
    for (const id of ids) {
      const set = this.#waiting.get(id) ?? new Set();
      set.add(run);
      this.#waiting.set(id, set);
    }
    if (this.#open.size > OPEN_LIMIT) {
      const oldest = this.#open.values().next().value;
      if (oldest !== undefined) this.#drop(oldest);
    }
  }

  /**
   * A stack's reconcile finished with this status: every open run waiting for it records it, with
   * what its apply changed when `latest` (its newest history entry) is an apply of this run.
   */
  finish(id: string, outcome: string, message: string, latest?: HistoryEntry): void {
    const runs = this.#waiting.get(id);
    if (runs === undefined) return;
    this.#waiting.delete(id);
    const at = this.#clock.date().toISOString();
    for (const run of runs) {
      const changes = latest !== undefined && latest.at >= run.startedAt ? latest.changes : undefined;
      run.stacks.set(id, { outcome, message, ...(changes === undefined ? {} : { changes }) });
      run.pending--;
      if (run.pending === 0) {
        this.#open.delete(run.id);
        this.#state.putRun(toRecord(run, at));
      }
    }
  }

  /** Newest first: open runs, then finished ones from the state store. */
  list(): RunRecord[] {
    const open = [...this.#open.values()].reverse().map((r) => toRecord(r, null));
    return [...open, ...this.#state.data.runs];
  }

  #drop(run: OpenRun): void {
    this.#open.delete(run.id);
    for (const id of run.stacks.keys()) this.#waiting.get(id)?.delete(run);
  }
}

function toRecord(run: OpenRun, finishedAt: string | null): RunRecord {
  return {
    id: run.id,
    trigger: run.trigger,
    revision: run.revision,
    startedAt: run.startedAt,
    finishedAt,
    stacks: [...run.stacks].map(([id, r]) => ({ ...r, id })),
  };
}
