/** The in-memory state with serialized, coalesced, atomic persistence. */
import { realClock, type Clock } from '../../pkg/clock/index.js';
import { layoutOf } from '../layout/index.js';
import type { Logger } from '../log/index.js';
import type { HistoryEntry } from '../status/index.js';
import { type LoadOutcome, loadStateFile, writeStateFile } from './file.js';
import { idMap } from './schema.js';
import { HISTORY_LIMIT, RUNS_LIMIT, type RunRecord, type StackRecord, type StateData } from './types.js';
import { LogEvent } from '../log/index.js';

export interface StateStoreOptions {
  readonly dataDir: string;
  readonly logger: Logger;
  /** Names a corrupt file moved aside. @default realClock */
  readonly clock?: Clock;
}

export class StateStore {
  readonly path: string;
  readonly #logger: Logger;
  /**
   * The current state; replaced on every change, but for `stacks`, which the store owns and
   * changes in place (a copy per change would make N changes cost N², as it did at 1,000 stacks).
   * Read it, do not keep it across an await.
   */
  #data: StateData;
  /** The write in flight, if any; at most one more is pending behind it. */
  #writing: Promise<void> | undefined;
  #dirty = false;
  /** Told after every change, synchronously (the status page's event stream listens). */
  readonly #listeners = new Set<() => void>();
  /** How the state was found at start-up: rebuilt from labels unless `ok`. */
  readonly loaded: LoadOutcome['kind'];

  private constructor(path: string, outcome: LoadOutcome, logger: Logger) {
    this.path = path;
    this.#logger = logger;
    this.#data = { ...outcome.data, stacks: idMap(Object.entries(outcome.data.stacks)) };
    this.loaded = outcome.kind;
  }

  static async open(options: StateStoreOptions): Promise<StateStore> {
    const path = layoutOf(options.dataDir).stateFile;
    const outcome = await loadStateFile(path, options.clock ?? realClock);
    if (outcome.kind === 'corrupt') {
      options.logger.warn(
        `state file not usable (${outcome.reason}): ${outcome.movedTo === '' ? 'left in place' : 'moved aside'}, state will be rebuilt from container labels`,
        {
          event: LogEvent.stateCorrupt,
          path,
          movedTo: outcome.movedTo,
          reason: outcome.reason,
        },
      );
    } else if (outcome.kind === 'missing') {
      options.logger.info('no state file: state will be rebuilt from container labels', {
        event: LogEvent.stateMissing,
        path,
      });
    }
    return new StateStore(path, outcome, options.logger);
  }

  get data(): StateData {
    return this.#data;
  }

  /** The record of stack `id` (an own entry only: `constructor` is a stack id like any other). */
  stack(id: string): StackRecord | undefined {
    return Object.hasOwn(this.#data.stacks, id) ? this.#data.stacks[id] : undefined;
  }

  setStack(id: string, record: StackRecord): void {
    const stacks = this.#data.stacks as Record<string, StackRecord>;
    stacks[id] = record;
    this.#replace({ ...this.#data });
  }

  deleteStack(id: string): void {
    if (!Object.hasOwn(this.#data.stacks, id)) return;
    const stacks = this.#data.stacks as Record<string, StackRecord>;
    // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- a map without a prototype, keyed by stack id
    delete stacks[id];
    this.#replace({ ...this.#data });
  }

  /** Appends to a stack's bounded history. */
  static withHistory(record: StackRecord, entry: HistoryEntry): StackRecord {
    return { ...record, history: [entry, ...record.history].slice(0, HISTORY_LIMIT) };
  }

  setReconcileEnabled(enabled: boolean | null): void {
    this.#replace({ ...this.#data, reconcileEnabled: enabled });
  }

  /** Adds or replaces (same id) a run record, newest first, bounded. */
  putRun(run: RunRecord): void {
    const runs = [run, ...this.#data.runs.filter((r) => r.id !== run.id)].slice(0, RUNS_LIMIT);
    this.#replace({ ...this.#data, runs });
  }

  /** Calls `listener` after every change (a stack record, a run, the pause); returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  #replace(data: StateData): void {
    this.#data = data;
    this.#dirty = true;
    this.#schedule();
    for (const listener of this.#listeners) listener();
  }

  #schedule(): void {
    if (this.#writing !== undefined) return;
    const writing = (async () => {
      // Start on a later tick, so changes made in the same tick go into one write.
      await Promise.resolve();
      while (this.#dirty) {
        this.#dirty = false;
        try {
          await writeStateFile(this.path, this.#data);
        } catch (error) {
          // A full or read-only disk must not stop reconciliation: keep the state in memory
          // (still dirty), the next change (or flush) tries again.
          this.#dirty = true;
          this.#logger.error('cannot write state file; state kept in memory', {
            event: LogEvent.stateWriteFailed,
            path: this.path,
            reason: (error as Error).message,
          });
          break;
        }
      }
    })().finally(() => {
      if (this.#writing === writing) this.#writing = undefined;
    });
    this.#writing = writing;
  }

  /** Resolves when everything changed so far is on disk (or failed to be written, logged). */
  async flush(): Promise<void> {
    if (this.#dirty && this.#writing === undefined) this.#schedule();
    while (this.#writing !== undefined) await this.#writing;
  }
}
