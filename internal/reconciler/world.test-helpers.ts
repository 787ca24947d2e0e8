/**
 * A Docker-free world for driving the reconciler: a snapshot set by the test, an informer whose
 * observation is a map the fake compose runner edits (`up` starts every desired service with its
 * desired hash, `down` removes the project), a real state store in a temporary dataDir, a memory
 * logger and a FakeClock that moves only when the reconcile waits on it.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { load } from 'js-yaml';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../pkg/clock/fake.js';
import type { ComposeRunner, ComposeTarget } from '../compose/types.js';
import type { Observation, ObservedProject } from '../informer/types.js';
import { silentLogger } from '../log/index.js';
import { memoryLogger } from '../log/memory.test-helpers.js';
import type { DesiredStack, Snapshot } from '../source/types.js';
import { StateStore, type StackRecord } from '../state/index.js';
import { FAKE_EPOCH_MS } from '../../pkg/clock/fake.js';
import { INSTANCE, container, project } from './fixtures.test-helpers.js';
import type { ReconcileRequest, ReconcileSettings } from './options.js';
import { StackReconciler } from './reconciler.js';
import type { ReconcileOutcome } from './recorder.js';

export type ComposeOp = 'validate' | 'build' | 'pull' | 'up' | 'down';

export interface ComposeCall {
  readonly op: ComposeOp;
  readonly target: ComposeTarget;
  /** `build`: the services built. */
  readonly services?: readonly string[];
}

export const REV = 'a'.repeat(40);
export const REV2 = 'b'.repeat(40);

/** The wall-clock time of the fake clock at `ms`, as records show it. */
export const at = (ms: number): string => new Date(FAKE_EPOCH_MS + ms).toISOString();

/** The error `promise` rejects with (and a failure of the test if it does not). */
export async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the reconcile to fail');
}

export const SETTINGS: ReconcileSettings = {
  enabled: true,
  prune: true,
  allowEmpty: false,
  selfHeal: true,
  timeoutMs: 10_000,
  minReadyMs: 0,
  crashLoopLimit: 3,
  rollback: false,
};

export interface World {
  readonly dataDir: string;
  readonly clock: FakeClock;
  readonly state: StateStore;
  readonly reconciler: StackReconciler;
  /** What the engine runs, by project; edit it to set the scene. */
  readonly projects: Map<string, ObservedProject>;
  readonly calls: ComposeCall[];
  /** Every `state.setStack` (the state writes), in order. */
  readonly writes: { readonly id: string; readonly record: StackRecord }[];
  /** `onRecord` and `onResult` hook calls. */
  readonly hooks: { readonly records: string[]; readonly results: string[] };
  /** The next call of `op` fails with this error (once). */
  readonly failNext: Map<ComposeOp, Error>;
  settings: ReconcileSettings;
  engineUp: boolean;
  /** What `logTail` answers for any container. */
  logTail: string;
  /** The stack's tracked `.env`, as materialize reads it. */
  env: Uint8Array | undefined;
  /** Sets the snapshot: these stacks at `revision`. */
  desire(revision: string, ...stacks: DesiredStack[]): void;
  /** Runs one reconcile to its end, moving the clock whenever only a timer can move it on. */
  run(request: ReconcileRequest): Promise<ReconcileOutcome>;
  logs(): Promise<Record<string, unknown>[]>;
  /** `level event stack` of every log line, in order. */
  events(): Promise<string[]>;
  /** Project `web` runs these services (labelled as ours, stack `web`), with these service hashes. */
  running(...services: [string, string][]): void;
  close(): Promise<void>;
}

export async function createWorld(): Promise<World> {
  const dataDir = await mkdtemp(join(tmpdir(), 'stackd-reconciler-'));
  const clock = new FakeClock();
  const { logger, lines } = memoryLogger();
  const state = await StateStore.open({ dataDir, logger: silentLogger() });
  const projects = new Map<string, ObservedProject>();
  const calls: ComposeCall[] = [];
  const writes: { id: string; record: StackRecord }[] = [];
  const hooks = { records: [] as string[], results: [] as string[] };
  const failNext = new Map<ComposeOp, Error>();
  let snapshot: Snapshot | undefined;
  /** Every snapshot desired so far, by revision: what `stackAt` reads (the local objects). */
  const history = new Map<string, Snapshot>();

  const setStack = state.setStack.bind(state);
  state.setStack = (id, record) => {
    writes.push({ id, record });
    setStack(id, record);
  };

  const world = {
    settings: SETTINGS,
    engineUp: true,
    logTail: '',
    env: undefined,
  };
  const observation = (): Observation => ({
    up: world.engineUp,
    stale: false,
    at: clock.date(),
    error: world.engineUp ? null : 'connect ENOENT /var/run/docker.sock',
    projects: new Map(projects),
  });
  const fail = (op: ComposeOp): void => {
    const error = failNext.get(op);
    if (error === undefined) return;
    failNext.delete(op);
    throw error;
  };
  const compose: ComposeRunner = {
    validate: (target) => {
      calls.push({ op: 'validate', target });
      fail('validate');
      return Promise.resolve();
    },
    pull: (target, services) => {
      calls.push({ op: 'pull', target, services });
      fail('pull');
      return Promise.resolve();
    },
    build: (target, services) => {
      calls.push({ op: 'build', target, services });
      fail('build');
      return Promise.resolve({ durationMs: 0, output: '', builder: 'default' as const });
    },
    up: async (target) => {
      calls.push({ op: 'up', target });
      fail('up');
      // As compose does: every service of the label override gets a container with those labels;
      // one whose labels did not change is kept (same id), a stopped one is started.
      const override = load(await readFile(target.files.at(-1) ?? '', 'utf8')) as {
        services?: Record<string, { labels?: Record<string, string> }>;
      };
      const before = projects.get(target.project)?.containers ?? [];
      const containers = Object.entries(override.services ?? {}).map(([name, s]) => {
        const labels = s.labels ?? {};
        const kept = before.find(
          (c) => c.service === name && JSON.stringify(c.labels) === JSON.stringify(labels),
        );
        return kept === undefined
          ? container(target.project, name, { managedBy: null, labels })
          : { ...kept, state: 'running', exitCode: null };
      });
      projects.set(target.project, { project: target.project, containers });
    },
    down: (target) => {
      calls.push({ op: 'down', target });
      fail('down');
      projects.delete(target.project);
      return Promise.resolve();
    },
    describe: () => Promise.resolve('fake compose'),
    pin: () => Promise.reject(new Error('not used')),
  };

  const reconciler = new StackReconciler({
    source: {
      current: () => snapshot,
      materialize: (stack) =>
        Promise.resolve({
          dir: join(dataDir, 'work', stack.id),
          written: 0,
          deleted: 0,
          decrypted: [],
          env: world.env,
        }),
      trackedFiles: () => Promise.resolve(new Set(['compose.yaml', 'README.md'])),
      stackAt: (revision, id) => Promise.resolve(history.get(revision)?.stacks.get(id)),
    },
    informer: {
      current: observation,
      observeProject: (project) => Promise.resolve(projects.get(project)),
      logTail: () => Promise.resolve(world.logTail),
    },
    compose,
    state,
    logger,
    dataDir,
    instance: INSTANCE,
    settings: () => world.settings,
    clock,
    hooks: {
      onRecord: (id, record) => hooks.records.push(`${id} ${record.status}`),
      onResult: (id, outcome, ms) => hooks.results.push(`${id} ${outcome} ${String(ms)}`),
    },
  });

  return Object.assign(world, {
    dataDir,
    clock,
    state,
    reconciler,
    projects,
    calls,
    writes,
    hooks,
    failNext,
    desire(revision: string, ...stacks: DesiredStack[]): void {
      snapshot = { revision, fetchedAt: clock.date(), stacks: new Map(stacks.map((s) => [s.id, s])) };
      history.set(revision, snapshot);
    },
    async run(request: ReconcileRequest): Promise<ReconcileOutcome> {
      const done = { settled: false };
      const running = reconciler.run(request).finally(() => {
        done.settled = true;
      });
      running.catch(() => undefined);
      for (let turn = 0; !done.settled && turn < 10_000; turn++) {
        const next = clock.pendingDelays()[0];
        if (next === undefined) await new Promise<void>((resolve) => setImmediate(resolve));
        else await clock.advanceAsync(next);
      }
      return running;
    },
    logs: lines,
    async events(): Promise<string[]> {
      return (await lines()).map((l) => `${String(l['level'])} ${String(l['event'])} ${String(l['stack'])}`);
    },
    running(...services: [string, string][]): void {
      projects.set(
        'web',
        project(
          'web',
          services.map(([name, hash]) => container('web', name, { hash })),
        ),
      );
    },
    async close(): Promise<void> {
      await state.flush();
      await rm(dataDir, { recursive: true, force: true });
    },
  });
}
