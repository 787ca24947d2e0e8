/** reconcile(stack): read the latest snapshot and observation, decide, act, record. */
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeOverride } from '../compose/override.js';
import type { ComposeRunner, ComposeTarget } from '../compose/types.js';
import type { Informer, ObservedProject } from '../informer/types.js';
import { layoutOf, type Layout } from '../layout/index.js';
import type { Logger } from '../log/index.js';
import { WorkTreeError, composeFilesAmong, writeFileAtomic } from '../source/index.js';
import type { DesiredStack, Source } from '../source/types.js';
import { StateStore, type StackRecord } from '../state/index.js';
import type { LastResult, RevisionHash, ServiceStatus, StackStatusValue } from '../status/index.js';
import { serviceLabels, syncedFromLabels } from './carry_forward.js';
import { ReconcileError, TerminalReconcileError } from './errors.js';
import { type Decision, decide } from './decide.js';
import { type StackPlan, planDesired } from './plan.js';
import { waitReady } from './readiness.js';
import { type EngineHealth, watchStarts } from './engine_watch.js';
import { leftoverProject, renamedProjects } from './universe.js';
import { serviceStatuses } from './services.js';
import { LogEvent, type LogEventName } from '../log/index.js';

export interface ReconcileSettings {
  readonly enabled: boolean;
  readonly prune: boolean;
  readonly allowEmpty: boolean;
  readonly selfHeal: boolean;
  /** Milliseconds an apply may take, waiting for containers included. */
  readonly timeoutMs: number;
}

export interface ReconcileRequest {
  readonly stack: string;
  /** A manual sync: apply even if the stack looks in sync, and clear a terminal failure. */
  readonly force?: boolean;
}

export interface ReconcileHooks {
  /** Called with every recorded status change. */
  readonly onRecord?: (id: string, record: StackRecord) => void;
  /** Called when an apply or removal finishes. */
  readonly onResult?: (id: string, outcome: 'success' | 'failure', durationMs: number) => void;
}

export interface ReconcilerOptions {
  readonly source: Pick<Source, 'current' | 'materialize' | 'trackedFiles'>;
  readonly informer: Pick<Informer, 'current' | 'observeProject'>;
  readonly compose: ComposeRunner;
  readonly state: StateStore;
  readonly logger: Logger;
  readonly dataDir: string;
  readonly instance: string;
  /** Read at the start of every reconcile, so a pause through the API applies at once. */
  readonly settings: () => ReconcileSettings;
  readonly hooks?: ReconcileHooks;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default setTimeout-based */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Marked when `compose up` creates containers the engine does not start (see engine_watch.ts). */
  readonly engine?: EngineHealth;
}

export interface Reconciler {
  reconcile(request: ReconcileRequest, signal?: AbortSignal): Promise<void>;
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function createReconciler(options: ReconcilerOptions): Reconciler {
  return new StackReconciler(options);
}

class StackReconciler implements Reconciler {
  readonly #o: ReconcilerOptions;
  readonly #layout: Layout;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(options: ReconcilerOptions) {
    this.#o = options;
    this.#layout = layoutOf(options.dataDir);
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async reconcile(request: ReconcileRequest, signal?: AbortSignal): Promise<void> {
    const snapshot = this.#o.source.current();
    if (snapshot === undefined) return; // nothing desired known yet; the first snapshot enqueues all
    const id = request.stack;
    const desired = snapshot.stacks.get(id);
    const observation = this.#o.informer.current();
    if (!observation.up) {
      const message = `Docker engine unreachable: ${observation.error ?? 'no answer'}`;
      this.#record(id, desired?.project, { status: 'failed', message });
      this.#log('warn', LogEvent.reconcileFailure, id, { reason: message, project: desired?.project });
      throw new ReconcileError(id, message);
    }
    const settings = this.#o.settings();
    const force = request.force === true;
    const renamedFrom =
      desired === undefined
        ? []
        : renamedProjects(observation, snapshot, id, desired.project, this.#o.instance);
    const decideWith = (observed: ObservedProject | undefined): Decision =>
      decide({
        desired,
        observed,
        desiredEmpty: snapshot.stacks.size === 0,
        settings,
        instance: this.#o.instance,
        force,
        renamedFrom,
      });
    // The informer's cache (kept fresh by events) decides "in sync" without a Docker API call;
    // anything else is re-checked against the engine before acting on it.
    const project = desired?.project ?? leftoverProject(observation, snapshot, id, this.#o.instance)?.project;
    let observed = project === undefined ? undefined : observation.projects.get(project);
    let decision = decideWith(observed);
    if (
      project !== undefined &&
      (decision.kind === 'apply' || decision.kind === 'remove' || decision.kind === 'hold')
    ) {
      observed = await this.#o.informer.observeProject(project, signal);
      decision = decideWith(observed);
    }
    const fields = {
      project: project ?? '',
      revision: snapshot.revision,
      ...(desired?.composeHash ? { composeHash: desired.composeHash } : {}),
    };
    const services =
      desired !== undefined
        ? serviceStatuses(desired, observed, this.#o.instance)
        : (observed?.containers ?? []).map((c): ServiceStatus => ({
            name: c.service,
            state: c.state,
            health: c.health,
            inSync: false,
          }));
    switch (decision.kind) {
      case 'invalid':
      case 'foreign': {
        const previous = this.#o.state.stack(id);
        if (previous?.status !== 'failed' || previous.message !== decision.message) {
          this.#log('warn', LogEvent.reconcileFailure, id, { ...fields, reason: decision.message });
        }
        this.#record(id, project, { status: 'failed', message: decision.message, services });
        throw new TerminalReconcileError(id, decision.message);
      }
      case 'in_sync': {
        // The synced revision follows the desired one without touching the runtime.
        const target = { revision: snapshot.revision, composeHash: desired?.composeHash ?? '' };
        const previous = this.#o.state.stack(id)?.synced;
        const synced =
          previous?.revision === target.revision && previous.composeHash === target.composeHash
            ? previous
            : { ...target, at: iso(this.#now()) };
        this.#record(id, project, { status: 'synced', message: '', synced, services });
        this.#log('debug', LogEvent.reconcileSkip, id, { ...fields, reason: 'in sync' });
        return;
      }
      case 'hold':
        this.#record(id, project, {
          status: 'out_of_sync',
          message: decision.message,
          services,
          ...this.#syncedFallback(id, observed),
        });
        this.#log('info', LogEvent.reconcileSkip, id, { ...fields, reason: decision.message });
        return;
      case 'gone': {
        const previous = this.#o.state.stack(id);
        if (previous === undefined) return;
        if (previous.status !== 'missing') {
          this.#record(id, previous.project, {
            status: 'missing',
            message: 'not in the desired state and not running',
            services: [],
            missingAt: snapshot.revision,
          });
        } else if (previous.missingAt !== snapshot.revision) {
          // Reported `missing` while the desired state stays at the revision that lacked it; once
          // it has moved on, the stack is forgotten: no longer in the API nor in /metrics.
          this.#o.state.deleteStack(id);
          this.#log('info', LogEvent.stackForgotten, id, {
            project: previous.project,
            revision: snapshot.revision,
            reason: `missing since ${previous.missingAt?.slice(0, 12) ?? 'an earlier revision'}; record dropped`,
          });
        }
        return;
      }
      case 'apply':
        if (desired?.composeHash == null) return; // decide() only applies valid stacks
        await this.#apply(
          desired,
          { revision: snapshot.revision, composeHash: desired.composeHash },
          decision.plan,
          observed,
          settings,
          signal,
          decision.removeFirst ?? [],
        );
        return;
      case 'remove':
        if (observed !== undefined)
          await this.#remove(id, observed, decision.plan, services, settings, snapshot.revision, signal);
        return;
    }
  }

  /** Keeps the recorded synced info, or rebuilds it from labels when the state was lost. */
  #syncedFallback(id: string, observed: ObservedProject | undefined): Partial<StackRecord> {
    if (this.#o.state.stack(id)?.synced) return {};
    const fromLabels = syncedFromLabels(observed, this.#o.instance);
    return fromLabels === null ? {} : { synced: { ...fromLabels, at: iso(this.#now()) } };
  }

  async #apply(
    stack: DesiredStack,
    target: RevisionHash,
    plan: StackPlan,
    observed: ObservedProject | undefined,
    settings: ReconcileSettings,
    signal: AbortSignal | undefined,
    removeFirst: readonly string[],
  ): Promise<void> {
    const id = stack.id;
    const started = this.#now();
    const deadline = started + settings.timeoutMs;
    const fields = { ...target, project: stack.project };
    this.#record(id, stack.project, {
      status: 'syncing',
      message: plan.reason,
      ...this.#syncedFallback(id, observed),
    });
    this.#log('info', LogEvent.reconcileStart, id, { ...fields, action: plan.action, reason: plan.reason });
    const workDir = this.#layout.workDir(id);
    try {
      const env = await this.#materialize(stack);
      const overridePath = this.#layout.override(stack.project);
      await writeOverride(overridePath, serviceLabels(stack, observed, target, this.#o.instance));
      const envFile = await this.#writeEnvFile(stack.project, env);
      const compose: ComposeTarget = {
        project: stack.project,
        dir: workDir,
        envFile,
        files: [...stack.composeFiles.map((f) => join(workDir, f)), overridePath],
      };
      const run = (): { timeoutMs: number; signal?: AbortSignal } => ({
        timeoutMs: Math.max(1000, deadline - this.#now()),
        ...(signal ? { signal } : {}),
      });
      try {
        await this.#o.compose.validate(compose, run());
      } catch (error) {
        if ((error as Error).name !== 'ComposeError' || (error as { timedOut?: boolean }).timedOut === true)
          throw error;
        throw new TerminalReconcileError(id, `compose rejected the stack: ${(error as Error).message}`, {
          cause: error,
        });
      }
      // A renamed project: the old one goes once the new files are known good, right before `up`
      // (`-p OLD` with the new files: down finds the old project's containers by its label).
      const userFiles = stack.composeFiles.map((f) => join(workDir, f));
      for (const old of removeFirst) await this.#downRenamed(id, old, userFiles, envFile, deadline, signal);
      await this.#up(stack, compose, run(), settings.timeoutMs);
      const ready = await waitReady(stack, {
        observe: () => this.#o.informer.observeProject(stack.project, signal),
        deadline,
        now: this.#now,
        sleep: this.#sleep,
      });
      const after = await this.#o.informer.observeProject(stack.project, signal);
      const services = serviceStatuses(stack, after, this.#o.instance);
      if (!ready.ok) throw new ReconcileError(id, ready.message);
      const check = planDesired(stack, after, { instance: this.#o.instance });
      if (check.action !== 'none')
        throw new ReconcileError(id, `still out of sync after apply: ${check.reason}`);
      const durationMs = this.#now() - started;
      const at = iso(this.#now());
      this.#finish(
        id,
        stack.project,
        target,
        { outcome: 'success', at, message: plan.reason, durationMs },
        plan.action,
        {
          // A snapshot that came during the apply already asks for more: synced to what was
          // applied, but not in sync (the queue runs the stack again).
          ...(this.#o.source.current()?.stacks.get(id)?.composeHash === target.composeHash
            ? { status: 'synced' as const, message: '' }
            : {
                status: 'out_of_sync' as const,
                message: 'queued: the desired state changed during the apply',
              }),
          synced: { ...target, at },
          services,
        },
      );
      this.#log('info', LogEvent.reconcileSuccess, id, {
        ...fields,
        durationMs,
        action: plan.action,
        reason: plan.reason,
      });
    } catch (error) {
      const durationMs = this.#now() - started;
      const message = describe(error);
      const after = this.#o.informer.current().projects.get(stack.project);
      this.#finish(
        id,
        stack.project,
        target,
        { outcome: 'failure', at: iso(this.#now()), message, durationMs },
        plan.action,
        { status: 'failed', message, services: serviceStatuses(stack, after, this.#o.instance) },
      );
      this.#log('error', LogEvent.reconcileFailure, id, {
        ...fields,
        durationMs,
        action: plan.action,
        reason: message,
      });
      if (error instanceof ReconcileError) throw error;
      throw new ReconcileError(id, message, { cause: error });
    }
  }

  async #remove(
    id: string,
    runtime: ObservedProject,
    plan: StackPlan,
    services: readonly ServiceStatus[],
    settings: ReconcileSettings,
    revision: string,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const project = runtime.project;
    const started = this.#now();
    this.#record(id, project, {
      status: 'syncing',
      message: plan.reason,
      services,
      ...this.#syncedFallback(id, runtime),
    });
    this.#log('info', LogEvent.reconcileStart, id, { project, action: 'remove', reason: plan.reason });
    const workDir = this.#layout.workDir(id);
    try {
      await mkdir(workDir, { recursive: true }); // compose runs there, even if dataDir was wiped
      // Only what Git put there (the manifest), never a compose file or `.env` a container dropped.
      const tracked = await this.#o.source.trackedFiles(id, this.#layout.workRoot);
      await this.#o.compose.down(
        {
          project,
          dir: workDir,
          files: composeFilesAmong(tracked).map((f) => join(workDir, f)),
          envFile: await this.#envFileOf(project),
        },
        { timeoutMs: settings.timeoutMs, ...(signal ? { signal } : {}) },
      );
      const after = await this.#o.informer.observeProject(project, signal);
      if (after !== undefined && after.containers.length > 0) {
        throw new ReconcileError(
          id,
          `containers still present after compose down: ${after.containers.map((c) => c.name).join(', ')}`,
        );
      }
      // The working directory stays: it may hold data containers wrote into bind mounts.
      await rm(this.#layout.override(project), { force: true });
      await rm(this.#layout.envFile(project), { force: true });
      const durationMs = this.#now() - started;
      this.#finish(
        id,
        project,
        null,
        { outcome: 'success', at: iso(this.#now()), message: 'removed', durationMs },
        'remove',
        {
          status: 'missing',
          message: 'removed: not in the desired state',
          services: [],
          missingAt: revision,
        },
      );
      this.#log('info', LogEvent.reconcileSuccess, id, {
        project,
        durationMs,
        action: 'remove',
        reason: plan.reason,
      });
    } catch (error) {
      const durationMs = this.#now() - started;
      const message = `removal failed: ${describe(error)}`;
      this.#finish(
        id,
        project,
        null,
        { outcome: 'failure', at: iso(this.#now()), message, durationMs },
        'remove',
        {
          status: 'failed',
          message,
          services,
        },
      );
      this.#log('error', LogEvent.reconcileFailure, id, {
        project,
        durationMs,
        action: 'remove',
        reason: message,
      });
      throw new ReconcileError(id, message, { cause: error });
    }
  }

  async #downRenamed(
    id: string,
    project: string,
    files: readonly string[],
    envFile: string,
    deadline: number,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    this.#log('info', LogEvent.reconcileStart, id, {
      project,
      action: 'remove',
      reason: 'project renamed in Git',
    });
    try {
      await this.#o.compose.down(
        { project, dir: this.#layout.workDir(id), files, envFile },
        { timeoutMs: Math.max(1000, deadline - this.#now()), ...(signal ? { signal } : {}) },
      );
    } catch (error) {
      throw new ReconcileError(id, `removing the old project ${project} failed: ${describe(error)}`, {
        cause: error,
      });
    }
    const after = await this.#o.informer.observeProject(project, signal);
    if (after !== undefined && after.containers.length > 0) {
      throw new ReconcileError(
        id,
        `containers of the old project ${project} still present after compose down: ${after.containers.map((c) => c.name).join(', ')}`,
      );
    }
    await rm(this.#layout.override(project), { force: true });
    this.#log('info', LogEvent.reconcileSuccess, id, {
      project,
      action: 'remove',
      reason: 'project renamed in Git',
    });
  }

  /**
   * `compose up`, watching that the engine starts what it creates: a container left `created`
   * for half the timeout (at most a minute) marks the engine as not starting containers (not
   * ready, `stackd_runtime_up` 0) until an up succeeds.
   */
  async #up(
    stack: DesiredStack,
    target: ComposeTarget,
    options: { timeoutMs: number; signal?: AbortSignal },
    timeoutMs: number,
  ): Promise<void> {
    const engine = this.#o.engine;
    const watch =
      engine === undefined
        ? undefined
        : watchStarts({
            informer: this.#o.informer,
            project: stack.project,
            boundMs: Math.min(60_000, Math.max(1000, Math.floor(timeoutMs / 2))),
            now: this.#now,
            sleep: this.#sleep,
            onStall: (reason) => {
              if (engine.stalled() === undefined) {
                this.#log('error', LogEvent.runtimeStalled, stack.id, { project: stack.project, reason });
              }
              engine.markStalled(reason);
            },
          });
    try {
      await this.#o.compose.up(target, options);
    } finally {
      watch?.stop();
    }
    const stalled = engine?.stalled();
    if (stalled !== undefined) {
      engine?.clear();
      this.#log('info', LogEvent.runtimeRecovered, stack.id, {
        project: stack.project,
        reason: `compose up succeeded; was: ${stalled}`,
      });
    }
  }

  /**
   * Write the stack's files into its work tree. A work tree something else reshaped (a symbolic
   * link swapped in for a tracked directory) fails the stack until it changes or is synced by hand.
   */
  async #materialize(stack: DesiredStack): Promise<Uint8Array | undefined> {
    try {
      return (await this.#o.source.materialize(stack, this.#layout.workRoot)).env;
    } catch (error) {
      if (!(error instanceof WorkTreeError)) throw error;
      throw new TerminalReconcileError(
        stack.id,
        `work tree ${this.#layout.workDir(stack.id)} was changed outside stackd: ${error.message}; nothing was written through it (remove the path and stackd restores it)`,
        { cause: error },
      );
    }
  }

  /**
   * The `--env-file` of an apply: the tracked `.env` as Git has it, copied where no container can
   * write (`overrides/<project>.env`), else an empty file. compose never reads the work tree's.
   */
  async #writeEnvFile(project: string, env: Uint8Array | undefined): Promise<string> {
    const path = this.#layout.envFile(project);
    if (env === undefined) {
      await rm(path, { force: true });
      return this.#layout.emptyEnvFile;
    }
    await writeFileAtomic(path, env, { mode: 0o600 });
    return path;
  }

  /** The `--env-file` the last apply of `project` used (for a removal), else the empty file. */
  async #envFileOf(project: string): Promise<string> {
    const path = this.#layout.envFile(project);
    return (await stat(path).catch(() => undefined))?.isFile() === true ? path : this.#layout.emptyEnvFile;
  }

  #record(
    id: string,
    project: string | undefined,
    patch: Partial<StackRecord> & { status: StackStatusValue },
  ): void {
    const previous = this.#o.state.stack(id);
    const record: StackRecord = {
      project: project ?? previous?.project ?? '',
      message: '',
      synced: previous?.synced ?? null,
      lastResult: previous?.lastResult ?? null,
      services: previous?.services ?? [],
      history: previous?.history ?? [],
      ...patch,
    };
    // A no-op check of an in-sync stack changes nothing: no state write, no metric update.
    if (previous !== undefined && JSON.stringify(previous) === JSON.stringify(record)) return;
    this.#o.state.setStack(id, record);
    this.#o.hooks?.onRecord?.(id, record);
  }

  #finish(
    id: string,
    project: string,
    target: RevisionHash | null,
    result: LastResult,
    action: string,
    patch: Partial<StackRecord> & { status: StackStatusValue },
  ): void {
    this.#record(id, project, { ...patch, lastResult: result });
    const record = this.#o.state.stack(id);
    if (record !== undefined) {
      this.#o.state.setStack(
        id,
        StateStore.withHistory(record, {
          ...result,
          action,
          revision: target?.revision ?? null,
          composeHash: target?.composeHash ?? null,
        }),
      );
    }
    this.#o.hooks?.onResult?.(id, result.outcome === 'success' ? 'success' : 'failure', result.durationMs);
  }

  #log(
    level: 'debug' | 'info' | 'warn' | 'error',
    event: LogEventName,
    stack: string,
    fields: Readonly<Record<string, unknown>>,
  ): void {
    const reason = typeof fields['reason'] === 'string' ? fields['reason'] : '';
    this.#o.logger.log(level, `${event} ${stack}${reason ? `: ${reason}` : ''}`, { event, stack, ...fields });
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
