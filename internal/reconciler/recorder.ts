/**
 * Record-keeping: every branch of a reconcile returns a `ReconcileOutcome`, and `Recorder.commit`
 * turns it into the stack's record, its history entry, the hooks and the log line, once, at the
 * end of the reconcile (as kustomize-controller patches an object's status once per reconcile).
 * An apply or a removal also marks the stack `syncing` when it starts (`begin`), so the API shows
 * the running reconcile, and logs its sub-steps as they happen (`log`).
 */
import type { ObservedProject } from '../informer/types.js';
import type { Logger, LogEventName } from '../log/index.js';
import { StateStore, type StackRecord } from '../state/index.js';
import type {
  FailureCause,
  LastResult,
  RevisionHash,
  ServiceChangeWhy,
  StackStatusValue,
} from '../status/index.js';
import type { Clock } from '../../pkg/clock/index.js';
import { syncedFromLabels } from './carry_forward.js';
import type { ReconcileError } from './errors.js';
import type { ReconcileHooks } from './options.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Fields of a stack's record to set; the others keep their recorded value. */
export type RecordPatch = Partial<StackRecord> & { readonly status: StackStatusValue };

export interface LogLine {
  readonly level: LogLevel;
  readonly event: LogEventName;
  readonly fields: Readonly<Record<string, unknown>>;
}

/**
 * What one reconcile of a stack came to. `kind` names the branch's verdict (`noop`: nothing to
 * record, e.g. no snapshot yet, or a stack neither desired, running nor recorded); the other
 * fields say what is written.
 */
export interface ReconcileOutcome {
  readonly kind:
    'unreachable' | 'failed' | 'in_sync' | 'held' | 'noop' | 'missing' | 'forgotten' | 'applied' | 'removed';
  /** The record to write: `patch` over the previous record; `project` unset keeps the recorded one. */
  readonly record?: { readonly project: string | undefined; readonly patch: RecordPatch };
  /** An apply or removal finished: its `lastResult`, a history entry and the `onResult` hook. */
  readonly result?: {
    readonly target: RevisionHash | null;
    readonly lastResult: LastResult;
    readonly action: string;
    /** What the apply changed (or tried to), by service. */
    readonly changes?: readonly ServiceChangeWhy[];
  };
  /** Drop the stack's record: no longer in the API nor in /metrics. */
  readonly forget?: boolean;
  readonly log?: LogLine;
  /** Thrown once recorded: a ReconcileError is retried, a TerminalReconcileError is not. */
  readonly error?: ReconcileError;
  /** A failed apply's cause (classify.ts). */
  readonly cause?: FailureCause;
}

export interface RecorderOptions {
  readonly state: StateStore;
  readonly logger: Logger;
  readonly instance: string;
  readonly clock: Clock;
  readonly hooks?: ReconcileHooks;
}

export class Recorder {
  readonly #o: RecorderOptions;

  constructor(options: RecorderOptions) {
    this.#o = options;
  }

  /** The stack's record as it stands. */
  previous(id: string): StackRecord | undefined {
    return this.#o.state.stack(id);
  }

  /** The wall-clock time as RFC 3339, for records. */
  at(): string {
    return this.#o.clock.date().toISOString();
  }

  /** An attempt at the desired stack (an apply, not a rollback's) starts: the `onApplyStart` hook. */
  applyStarted(id: string, target: RevisionHash, driftOnly: boolean): void {
    this.#o.hooks?.onApplyStart?.(id, target, driftOnly);
  }

  /** A rollback finished: the `onRollback` hook (the rollbacks counter). */
  rolledBack(id: string, outcome: 'success' | 'failure'): void {
    this.#o.hooks?.onRollback?.(id, outcome);
  }

  /** A build finished: the `onBuild` hook (the builds counter). */
  built(id: string, outcome: 'success' | 'failure', durationMs: number): void {
    this.#o.hooks?.onBuild?.(id, outcome, durationMs);
  }

  /** An apply or removal starts: the stack reads `syncing` while it runs. */
  begin(id: string, project: string, patch: RecordPatch, line: LogLine): void {
    this.#write(id, project, patch);
    this.log(line.level, line.event, id, line.fields);
  }

  /** The single write of a reconcile's outcome: record, history, hooks, log line. */
  commit(id: string, outcome: ReconcileOutcome): void {
    if (outcome.forget === true) this.#o.state.deleteStack(id);
    if (outcome.record !== undefined) {
      const { project, patch } = outcome.record;
      const result = outcome.result;
      if (result === undefined) this.#write(id, project, patch);
      else
        this.#write(id, project, { ...patch, lastResult: result.lastResult }, (record) =>
          StateStore.withHistory(record, {
            ...result.lastResult,
            action: result.action,
            revision: result.target?.revision ?? null,
            composeHash: result.target?.composeHash ?? null,
            ...(result.changes === undefined || result.changes.length === 0
              ? {}
              : { changes: result.changes }),
          }),
        );
      if (result !== undefined) {
        this.#o.hooks?.onResult?.(
          id,
          result.lastResult.outcome === 'success' ? 'success' : 'failure',
          result.lastResult.durationMs,
        );
      }
    }
    if (outcome.log !== undefined) this.log(outcome.log.level, outcome.log.event, id, outcome.log.fields);
  }

  /** Keeps the recorded synced info, or rebuilds it from labels when the state was lost. */
  syncedFallback(id: string, observed: ObservedProject | undefined): Partial<StackRecord> {
    if (this.#o.state.stack(id)?.synced) return {};
    const fromLabels = syncedFromLabels(observed, this.#o.instance);
    return fromLabels === null ? {} : { synced: { ...fromLabels, at: this.at() } };
  }

  /** One log line: `<event> <stack>[: <reason>]`, with the fields as metadata. */
  log(level: LogLevel, event: LogEventName, stack: string, fields: Readonly<Record<string, unknown>>): void {
    const reason = typeof fields['reason'] === 'string' ? fields['reason'] : '';
    this.#o.logger.log(level, `${event} ${stack}${reason ? `: ${reason}` : ''}`, { event, stack, ...fields });
  }

  /**
   * Merge `patch` over the previous record and store it. `history` (for a finished apply or
   * removal) adds its entry to the same write. A no-op check of an in-sync stack changes nothing:
   * no state write, no metric update.
   */
  #write(
    id: string,
    project: string | undefined,
    patch: RecordPatch,
    history?: (record: StackRecord) => StackRecord,
  ): void {
    const previous = this.#o.state.stack(id);
    const merged: StackRecord = {
      project: project ?? previous?.project ?? '',
      message: '',
      synced: previous?.synced ?? null,
      lastResult: previous?.lastResult ?? null,
      services: previous?.services ?? [],
      history: previous?.history ?? [],
      // What outlives one reconcile (a held failure, the self-heal count, the last rollback) is
      // kept unless the patch says otherwise; `missingAt` is not: it belongs to `missing` only.
      ...(previous?.held == null ? {} : { held: previous.held }),
      ...(previous?.heals == null ? {} : { heals: previous.heals }),
      ...(previous?.rollback == null ? {} : { rollback: previous.rollback }),
      ...(previous?.applied == null ? {} : { applied: previous.applied }),
      ...(previous?.suspended == null ? {} : { suspended: previous.suspended }),
      ...(previous?.prune == null ? {} : { prune: previous.prune }),
      ...patch,
      // A suspension set through the API meanwhile (this reconcile read the record before it) is
      // never overwritten here: only `stackd resume ID` ends it.
      ...(previous?.suspended?.by === 'api' ? { suspended: previous.suspended } : {}),
    };
    if (
      history === undefined &&
      previous !== undefined &&
      JSON.stringify(previous) === JSON.stringify(merged)
    )
      return;
    const record = history === undefined ? merged : history(merged);
    this.#o.state.setStack(id, record);
    this.#o.hooks?.onRecord?.(id, record);
  }
}
