/**
 * The set of reported stacks, kept equal in the API and in /metrics: `diffSorted` (pure), and a
 * Controller wired by `createDaemon` as `stackd run` wires it — the real reconciler, state store
 * and metrics registry — on an in-memory desired state and observation (no Docker, no Git).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { ComposeRunner } from '../compose/types.js';
import type { Informer, Observation, ObservedProject } from '../informer/types.js';
import { loadConfig } from '../config/index.js';
import { createLogger } from '../log/index.js';
import { type Metrics, createMetrics } from '../metrics/index.js';
import { INSTANCE, container, desiredStack, project } from '../reconciler/fixtures.test-helpers.js';
import type { MaterializeReport } from '../source/materialize.js';
import type { DesiredStack, Snapshot, SnapshotListener } from '../source/types.js';
import { type StackRecord, StateStore } from '../state/index.js';
import type { Controller } from './controller.js';
import { createDaemon } from './daemon.js';
import { diffSorted } from './reported.js';

describe('diffSorted', () => {
  function diff(before: string[], after: string[]): { removed: string[]; added: string[] } {
    const removed: string[] = [];
    const added: string[] = [];
    diffSorted(
      before,
      after,
      (id) => removed.push(id),
      (id) => added.push(id),
    );
    return { removed, added };
  }

  it.each([
    [[], [], [], []],
    [['a'], [], ['a'], []],
    [[], ['a'], [], ['a']],
    [['a', 'b', 'c'], ['a', 'b', 'c'], [], []],
    [
      ['a', 'c', 'e'],
      ['b', 'c', 'd'],
      ['a', 'e'],
      ['b', 'd'],
    ],
    [['apps/web', 'apps/x', 'db'], ['apps/web', 'db', 'zz'], ['apps/x'], ['zz']],
    [['A', 'a', 'b'], ['B', 'a'], ['A', 'b'], ['B']],
  ])('%j → %j removes %j, adds %j', (before, after, removed, added) => {
    expect(diff([...before].sort(), [...after].sort())).toEqual({ removed, added });
  });

  it('agrees with a set difference on random sorted lists', () => {
    let seed = 7;
    const random = (): number => (seed = (seed * 48271) % 2147483647) / 2147483647;
    for (let round = 0; round < 200; round++) {
      const pick = (): string[] => {
        const ids = new Set<string>();
        for (let i = 0; i < 20; i++) if (random() < 0.5) ids.add(`s/${String.fromCharCode(65 + i * 3)}${i}`);
        return [...ids].sort();
      };
      const before = pick();
      const after = pick();
      expect(diff(before, after)).toEqual({
        removed: before.filter((id) => !after.includes(id)),
        added: after.filter((id) => !before.includes(id)),
      });
    }
  });
});

/** A desired source whose snapshots the test pushes: the next refresh publishes the latest pushed. */
class MemorySource {
  readonly location = 'memory';
  #current: Snapshot | undefined;
  #next: Snapshot | undefined;
  readonly #listeners = new Set<SnapshotListener>();
  current(): Snapshot | undefined {
    return this.#current;
  }
  subscribe(listener: SnapshotListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  loadCached(): Promise<Snapshot | undefined> {
    return Promise.resolve(undefined);
  }
  refresh(): Promise<Snapshot> {
    if (this.#next !== undefined) {
      this.#current = this.#next;
      this.#next = undefined;
      for (const l of this.#listeners) l(this.#current);
    }
    return this.#current === undefined
      ? Promise.reject(new Error('no desired state yet'))
      : Promise.resolve(this.#current);
  }
  materialize(): Promise<MaterializeReport> {
    return Promise.resolve({ dir: '', written: 0, deleted: 0, decrypted: [], env: undefined });
  }
  trackedFiles(): Promise<ReadonlySet<string>> {
    return Promise.resolve(new Set());
  }
  stackAt(): Promise<DesiredStack | undefined> {
    return Promise.resolve(undefined);
  }
  push(revision: string, stacks: DesiredStack[]): void {
    this.#next = { revision, fetchedAt: new Date(), stacks: new Map(stacks.map((s) => [s.id, s])) };
  }
}

/** An engine's projects the test sets; `compose down` (below) empties one. */
class MemoryInformer implements Informer {
  readonly projects = new Map<string, ObservedProject>();
  readonly #listeners = new Set<(project: string) => void>();
  start(): Promise<void> {
    return Promise.resolve();
  }
  stop(): Promise<void> {
    return Promise.resolve();
  }
  current(): Observation {
    return { up: true, stale: false, at: new Date(), error: null, projects: this.projects };
  }
  onChange(listener: (project: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  observeProject(name: string): Promise<ObservedProject | undefined> {
    return Promise.resolve(this.projects.get(name));
  }
  logTail(): Promise<string> {
    return Promise.resolve('');
  }
  set(p: ObservedProject): void {
    this.projects.set(p.project, p);
    for (const l of this.#listeners) l(p.project);
  }
  remove(name: string): void {
    this.projects.delete(name);
    for (const l of this.#listeners) l(name);
  }
}

const running = (id: string): ObservedProject =>
  project(id.replace(/\//g, '_'), [container(id.replace(/\//g, '_'), 'web', { stack: id })]);

function record(status: StackRecord['status']): StackRecord {
  return { project: '', status, message: '', synced: null, lastResult: null, services: [], history: [] };
}

describe('Controller: the reported stacks, in the API and in /metrics', () => {
  let dir: string;
  let state: StateStore;
  let metrics: Metrics;
  let source: MemorySource;
  let informer: MemoryInformer;
  let controller: Controller;
  const downs: string[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stackd-known-'));
    const logger = createLogger({ stream: new PassThrough(), level: 'debug' });
    state = await StateStore.open({ dataDir: dir, logger });
    metrics = createMetrics({ defaultMetrics: false });
    source = new MemorySource();
    informer = new MemoryInformer();
    downs.length = 0;
    const compose: ComposeRunner = {
      pin: () =>
        Promise.resolve({ candidates: [], ignored: [], env: {}, tried: '', pluginDirs: [], passedOver: [] }),
      validate: () => Promise.reject(new Error('not expected')),
      up: () => Promise.reject(new Error('not expected')),
      build: () => Promise.reject(new Error('not expected')),
      pull: () => Promise.reject(new Error('not expected')),
      down: (target) => {
        downs.push(target.project);
        informer.remove(target.project);
        return Promise.resolve();
      },
      describe: () => Promise.resolve('memory'),
    };
    const config = loadConfig({
      env: {
        STACKD_DATA_DIR: dir,
        STACKD_INSTANCE: INSTANCE,
        STACKD_SCOPE_EXCLUDE: 'out/**',
        STACKD_SOURCE_POLL_INTERVAL: '0',
        STACKD_RECONCILE_RESYNC_INTERVAL: '0',
        STACKD_RECONCILE_PRUNE: 'true',
        STACKD_RECONCILE_ALLOW_EMPTY: 'true',
        STACKD_RECONCILE_TIMEOUT: '5s',
        STACKD_RECONCILE_MIN_READY: '0',
      },
    });
    // Wired as `stackd run` wires it, with the parts that would need Git and Docker in memory.
    ({ controller } = await createDaemon(config, {
      logger,
      source,
      informer,
      compose,
      state,
      metrics,
      lock: false,
      tuning: { backoff: { baseMs: 10, maxMs: 10 }, refreshMinGapMs: 0 },
    }));
  });

  afterEach(async () => {
    await controller.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** Every run finished and nothing queued. */
  async function settled(): Promise<void> {
    for (let i = 0; i < 500; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (controller.queue.len() === 0 && controller.runs().every((r) => r.finishedAt !== null)) return;
    }
    throw new Error('the controller did not settle');
  }

  /** Stack id → the status whose `stackd_stack_status` is 1; every stack exported, one status each. */
  async function exported(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    const counts: Record<string, number> = {};
    for (const line of (await metrics.registry.metrics()).split('\n')) {
      const m = /^stackd_stack_status\{stack="([^"]*)",status="([^"]*)"\} (\S+)$/.exec(line);
      if (m === null) continue;
      const [, stack = '', status = '', value] = m;
      counts[stack] = (counts[stack] ?? 0) + 1;
      if (value === '1') out[stack] = status;
    }
    for (const stack of Object.keys(counts)) expect([stack, counts[stack]]).toEqual([stack, 6]);
    expect(Object.keys(out).sort()).toEqual(Object.keys(counts).sort());
    return out;
  }

  /** A push to Git and the webhook's refresh. */
  async function push(revision: string, stacks: DesiredStack[]): Promise<void> {
    source.push(revision, stacks);
    await controller.refresh('webhook');
  }

  function listed(): Record<string, string> {
    return Object.fromEntries(controller.stacks().stacks.map((s) => [s.id, s.status]));
  }

  it('a stack removed from Git is missing at that revision, then forgotten by API, metrics and state', async () => {
    informer.set(running('a'));
    informer.set(running('b'));
    source.push('rev1', [desiredStack('a', { web: {} }), desiredStack('b', { web: {} })]);
    await controller.start();
    await settled();
    expect(listed()).toEqual({ a: 'synced', b: 'synced' });
    expect(await exported()).toEqual(listed());

    // Removed from Git, pruned: `missing`, reported as such in both.
    await push('rev2', [desiredStack('a', { web: {} })]);
    await settled();
    expect(downs).toEqual(['b']);
    expect(listed()).toEqual({ a: 'synced', b: 'missing' });
    expect(state.stack('b')).toMatchObject({ status: 'missing', missingAt: 'rev2' });
    expect(await exported()).toEqual(listed());
    expect(await metrics.registry.getSingleMetricAsString('stackd_reconcile_total')).toContain('stack="b"');

    // Passes at the same revision (a resync, Docker events) keep it.
    controller.enqueueAll('resync');
    await settled();
    expect(listed()).toEqual({ a: 'synced', b: 'missing' });
    expect(await exported()).toEqual(listed());

    // The next desired revision still without it: forgotten everywhere.
    await push('rev3', [desiredStack('a', { web: {} })]);
    await settled();
    expect(listed()).toEqual({ a: 'synced' });
    expect(controller.stack('b')).toBeUndefined();
    expect(state.stack('b')).toBeUndefined();
    expect(await exported()).toEqual({ a: 'synced' });
    expect(await metrics.registry.metrics()).not.toContain('stack="b"');
    // The run that forgot it says what it was.
    expect(controller.runs()[0]?.stacks).toContainEqual({
      id: 'b',
      outcome: 'missing',
      message: 'removed: not in the desired state',
    });

    // Back in Git: a new stack like any other.
    informer.set(running('b'));
    await push('rev4', [desiredStack('a', { web: {} }), desiredStack('b', { web: {} })]);
    await settled();
    expect(listed()).toEqual({ a: 'synced', b: 'synced' });
    expect(await exported()).toEqual(listed());
  });

  it('out-of-scope records lose their series at start and are kept in the state file', async () => {
    state.setStack('a', record('synced'));
    state.setStack('out/x', record('synced'));
    state.setStack('gone', { ...record('missing'), missingAt: 'rev0' });
    // What `stackd run` does before starting the controller.
    for (const [id, r] of Object.entries(state.data.stacks)) metrics.hooks.stackRecord?.(id, r);
    informer.set(running('a'));
    await controller.start();
    // No desired state yet: nothing reconciled, the recorded stacks reported as recorded.
    expect(listed()).toEqual({ a: 'synced', gone: 'missing' });
    expect(await exported()).toEqual(listed());
    expect(state.stack('out/x')).toBeDefined();

    await push('rev1', [desiredStack('a', { web: {} })]);
    await settled();
    expect(listed()).toEqual({ a: 'synced' });
    expect(await exported()).toEqual(listed());
    expect(state.stack('gone')).toBeUndefined();
    expect(state.stack('out/x')).toBeDefined();
  });

  it('a stack reported before it has a record is exported as unknown', async () => {
    informer.set(running('c'));
    await controller.start();
    expect(listed()).toEqual({ c: 'unknown' });
    expect(await exported()).toEqual({ c: 'unknown' });
    // A desired stack not reconciled yet appears with its snapshot.
    const stacks = [desiredStack('c', { web: {} }), desiredStack('d', { web: {} }, { error: 'bad file' })];
    await push('rev1', stacks);
    await settled();
    expect(listed()).toEqual({ c: 'synced', d: 'failed' });
    expect(await exported()).toEqual(listed());
    // Removed from Git before it ever ran: out of the desired state and not running, it goes
    // `missing`, then is forgotten at the next revision.
    await push('rev2', [desiredStack('c', { web: {} })]);
    await settled();
    expect(listed()).toEqual({ c: 'synced', d: 'missing' });
    await push('rev3', [desiredStack('c', { web: {} })]);
    await settled();
    expect(listed()).toEqual({ c: 'synced' });
    expect(await exported()).toEqual(listed());
  });
});
