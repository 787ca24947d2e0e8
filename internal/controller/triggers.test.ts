/**
 * The controller's timers on a FakeClock, with exact times: poll (jittered by the injected
 * `random`), resync, and the fetch retry schedule. Source, informer and reconciler are small
 * in-memory fakes; the state store is the real one.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { FakeClock } from '../../pkg/clock/fake.js';
import type { Informer, Observation } from '../informer/types.js';
import { silentLogger } from '../log/index.js';
import type { Reconciler } from '../reconciler/index.js';
import type { Snapshot, SnapshotListener, Source } from '../source/types.js';
import { StateStore } from '../state/index.js';
import { Controller } from './controller.js';
import type { ControllerOptions } from './options.js';
import { stackRecord } from '../state/record.test-helpers.js';

/** A source whose fetches the test makes fail or succeed; records when each fetch started. */
class FakeSource implements Source {
  readonly fetches: number[] = [];
  fail = false;
  readonly #clock: FakeClock;
  readonly #listeners = new Set<SnapshotListener>();
  #current: Snapshot | undefined;
  constructor(clock: FakeClock) {
    this.#clock = clock;
  }
  current(): Snapshot | undefined {
    return this.#current;
  }
  subscribe(listener: SnapshotListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
  refresh(): Promise<Snapshot> {
    this.fetches.push(this.#clock.now());
    if (this.fail) return Promise.reject(new Error('unreachable'));
    this.#current ??= { revision: 'r1', fetchedAt: this.#clock.date(), stacks: new Map() };
    return Promise.resolve(this.#current);
  }
  materialize(): never {
    throw new Error('not expected');
  }
  trackedFiles(): never {
    throw new Error('not expected');
  }
  stackAt(): never {
    throw new Error('not expected');
  }
}

const informer: Informer = {
  start: () => Promise.resolve(),
  stop: () => Promise.resolve(),
  current: (): Observation => ({ up: true, stale: false, at: new Date(0), error: null, projects: new Map() }),
  onChange: () => () => undefined,
  observeProject: () => Promise.resolve(undefined),
  logTail: () => Promise.resolve(''),
};

const reconciler: Reconciler = { reconcile: () => Promise.resolve() };

const SECOND = 1000;
const MINUTE = 60 * SECOND;

describe('Controller timers (FakeClock)', () => {
  let dir: string;
  let state: StateStore;
  let clock: FakeClock;
  let source: FakeSource;
  let controller: Controller | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stackd-timers-'));
    state = await StateStore.open({ dataDir: dir, logger: silentLogger() });
    clock = new FakeClock();
    source = new FakeSource(clock);
  });

  afterEach(async () => {
    await controller?.stop();
    controller = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  async function start(options: Partial<ControllerOptions>): Promise<Controller> {
    controller = new Controller({
      source,
      informer,
      reconciler,
      state,
      logger: silentLogger(),
      instance: 'test',
      inScope: () => true,
      reconcileEnabled: true,
      pollIntervalMs: 0,
      resyncIntervalMs: 0,
      clock,
      ...options,
    });
    await controller.start();
    await clock.advanceAsync(0);
    return controller;
  }

  it('polls at pollInterval lengthened by the jitter the injected random draws (up to 10 %)', async () => {
    const draws = [0, 0.5, 1];
    await start({ pollIntervalMs: MINUTE, random: () => draws.shift() ?? 0 });
    expect(source.fetches).toEqual([0]); // startup
    expect(clock.pendingDelays()).toEqual([MINUTE]);
    await clock.advanceAsync(MINUTE - 1);
    expect(source.fetches).toEqual([0]);
    await clock.advanceAsync(1);
    expect(source.fetches).toEqual([0, MINUTE]);
    // Next: 60 s × 1.05 after that poll, then 60 s × 1.1.
    expect(clock.pendingDelays()).toEqual([63 * SECOND]);
    await clock.advanceAsync(63 * SECOND);
    expect(clock.pendingDelays()).toEqual([66 * SECOND]);
    await clock.advanceAsync(66 * SECOND);
    expect(source.fetches).toEqual([0, 60 * SECOND, 123 * SECOND, 189 * SECOND]);
  });

  it('resyncs every resyncInterval: a run over every known stack each time', async () => {
    state.setStack('a', stackRecord({ project: 'a' }));
    const c = await start({ resyncIntervalMs: 5 * MINUTE });
    const resyncs = (): string[] =>
      c
        .runs()
        .filter((r) => r.trigger === 'resync')
        .map((r) => r.startedAt);
    await clock.advanceAsync(5 * MINUTE - 1);
    expect(resyncs()).toEqual([]);
    await clock.advanceAsync(1);
    expect(resyncs()).toEqual(['2026-01-01T00:05:00.000Z']);
    await clock.advanceAsync(5 * MINUTE);
    expect(resyncs()).toEqual(['2026-01-01T00:10:00.000Z', '2026-01-01T00:05:00.000Z']);
    expect(source.fetches).toEqual([0]); // a resync does not fetch
  });

  it('retries a failing fetch after 5 s, 10 s, 20 s … capped at 5 min, and starts over after a success', async () => {
    source.fail = true;
    const c = await start({});
    expect(c.lastFetchError).toBe('unreachable');
    const gaps = [5, 10, 20, 40, 80, 160, 300, 300].map((s) => s * SECOND);
    let at = 0;
    for (const gap of gaps) {
      expect(clock.pendingDelays()).toEqual([gap]);
      await clock.advanceAsync(gap);
      at += gap;
      expect(source.fetches.at(-1)).toBe(at);
    }
    expect(source.fetches).toHaveLength(gaps.length + 1);
    // The next retry succeeds: no retry is set, and the next failure waits 5 s again.
    source.fail = false;
    await clock.advanceAsync(300 * SECOND);
    expect(c.lastFetchError).toBeNull();
    expect(clock.pendingDelays()).toEqual([]);
    source.fail = true;
    await c.refresh('manual').catch(() => undefined);
    expect(clock.pendingDelays()).toEqual([5 * SECOND]);
  });

  it("reports the source's failures in the API's source: failing since the first, cleared by a success", async () => {
    source.fail = true;
    const c = await start({
      sourceUrl: 'https://bot:s3cret@git.example.test/stacks.git',
      sourceBranch: 'prod',
    });
    const t0 = clock.date().toISOString();
    expect(c.stacks().source).toEqual({
      url: 'https://***@git.example.test/stacks.git',
      branch: 'prod',
      lastSuccessAt: null,
      lastError: 'unreachable',
      lastErrorAt: t0,
      failingSince: t0,
    });
    await clock.advanceAsync(5 * SECOND); // the first retry fails too
    const t5 = clock.date().toISOString();
    expect(c.stacks().source).toMatchObject({ lastError: 'unreachable', lastErrorAt: t5, failingSince: t0 });
    source.fail = false;
    await clock.advanceAsync(10 * SECOND);
    expect(c.stacks().source).toEqual({
      url: 'https://***@git.example.test/stacks.git',
      branch: 'prod',
      lastSuccessAt: clock.date().toISOString(),
      lastError: null,
      lastErrorAt: t5,
      failingSince: null,
    });
  });

  it('sets no timer after stop()', async () => {
    source.fail = true;
    const c = await start({ pollIntervalMs: MINUTE, resyncIntervalMs: MINUTE, random: () => 0 });
    expect(clock.pendingDelays()).toEqual([5 * SECOND, MINUTE, MINUTE]);
    await c.stop();
    expect(clock.pendingTimers).toBe(0);
    await clock.advanceAsync(10 * MINUTE);
    expect(source.fetches).toEqual([0]);
  });
});
