import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryLogger } from '../log/memory.test-helpers.js';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { HistoryEntry } from '../status/index.js';
import { FakeClock } from '../../pkg/clock/fake.js';
import {
  HISTORY_LIMIT,
  RUNS_LIMIT,
  STATE_VERSION,
  StateStore,
  type RunRecord,
  type StackRecord,
  type StateData,
  emptyState,
  loadStateFile,
  writeStateFile,
} from './index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stackd-state-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function record(overrides: Partial<StackRecord> = {}): StackRecord {
  return {
    project: 'apps_web',
    status: 'synced',
    message: '',
    synced: { revision: 'abc123', composeHash: `sha256:${'a'.repeat(64)}`, at: '2024-01-01T00:00:00.000Z' },
    lastResult: { outcome: 'success', at: '2024-01-01T00:00:00.000Z', message: '', durationMs: 812 },
    services: [{ name: 'web', state: 'running', health: null, inSync: true }],
    history: [],
    ...overrides,
  };
}

function entry(n: number): HistoryEntry {
  return {
    outcome: 'success',
    at: new Date(Date.UTC(2024, 0, 1, 0, 0, n)).toISOString(),
    message: `apply ${n}`,
    durationMs: n,
    revision: `rev${n}`,
    composeHash: null,
    action: 'update',
  };
}

function run(id: number): RunRecord {
  return {
    id,
    trigger: 'poll',
    revision: `rev${id}`,
    startedAt: '2024-01-01T00:00:00.000Z',
    finishedAt: null,
    stacks: [{ id: 'apps/web', outcome: 'success', message: '' }],
  };
}

const statePath = (): string => join(dir, 'state.json');

async function readState(): Promise<StateData> {
  return JSON.parse(await readFile(statePath(), 'utf8')) as StateData;
}

describe('state file', () => {
  it('round-trips through an atomic write', async () => {
    const data: StateData = {
      ...emptyState(),
      reconcileEnabled: false,
      stacks: { 'apps/web': record({ history: [entry(1)] }) },
      runs: [run(1)],
    };
    await writeStateFile(statePath(), data);
    const loaded = await loadStateFile(statePath());
    expect(loaded).toEqual({ kind: 'ok', data });
    // Nothing but the state file is left behind (the temp file was renamed).
    expect(await readdir(dir)).toEqual(['state.json']);
  });

  it('round-trips a held failure, the self-heal count, a rollback and restart counts', async () => {
    const data: StateData = {
      ...emptyState(),
      stacks: {
        'apps/web': record({
          status: 'failed',
          services: [{ name: 'web', state: 'exited', health: null, inSync: false, restarts: 4 }],
          held: {
            revision: 'r2',
            composeHash: 'sha256:two',
            cause: 'not_ready',
            message: 'service web exited',
          },
          heals: { composeHash: 'sha256:one', at: ['2026-01-01T00:00:00.000Z'] },
          rollback: { from: 'r2', to: 'r1', at: '2026-01-01T00:01:00.000Z', reason: 'service web exited' },
        }),
        'apps/db': record({ held: null, rollback: null }),
      },
    };
    await writeStateFile(statePath(), data);
    expect(await loadStateFile(statePath())).toEqual({ kind: 'ok', data });
  });

  it('creates the directory', async () => {
    const path = join(dir, 'a', 'b', 'state.json');
    await writeStateFile(path, emptyState());
    expect((await loadStateFile(path)).kind).toBe('ok');
  });

  it('replaces an existing file whole', async () => {
    await writeStateFile(statePath(), { ...emptyState(), stacks: { a: record() } });
    await writeStateFile(statePath(), emptyState());
    expect((await readState()).stacks).toEqual({});
  });

  it('a missing file is "missing" with an empty state', async () => {
    expect(await loadStateFile(statePath())).toEqual({ kind: 'missing', data: emptyState() });
  });

  it.each([
    ['truncated', () => JSON.stringify({ ...emptyState(), stacks: { a: record() } }).slice(0, 40)],
    ['invalid JSON', () => 'not json at all'],
    ['empty', () => ''],
    ['not an object', () => '[1,2,3]'],
    ['of another version', () => JSON.stringify({ ...emptyState(), version: STATE_VERSION + 1 })],
    ['without a version', () => JSON.stringify({ stacks: {}, runs: [] })],
    ['without stacks', () => JSON.stringify({ version: STATE_VERSION })],
    ['with null stacks', () => JSON.stringify({ ...emptyState(), stacks: null })],
    ['with a null stack record', () => JSON.stringify({ ...emptyState(), stacks: { a: null } })],
    ['with runs not a list', () => JSON.stringify({ ...emptyState(), runs: {} })],
    [
      'with a record lacking synced',
      () => JSON.stringify({ ...emptyState(), stacks: { a: { ...record(), synced: undefined } } }),
    ],
    [
      'with a status that does not exist',
      () => JSON.stringify({ ...emptyState(), stacks: { a: record({ status: 'happy' as 'synced' }) } }),
    ],
    [
      'with a held failure of a cause that does not exist',
      () =>
        JSON.stringify({
          ...emptyState(),
          stacks: {
            a: { ...record(), held: { revision: 'r', composeHash: 'h', cause: 'bad luck', message: '' } },
          },
        }),
    ],
    [
      'with a rollback lacking its target',
      () =>
        JSON.stringify({
          ...emptyState(),
          stacks: { a: { ...record(), rollback: { from: 'r2', at: 'x', reason: '' } } },
        }),
    ],
    [
      'with services not a list',
      () => JSON.stringify({ ...emptyState(), stacks: { a: { ...record(), services: 'web' } } }),
    ],
    [
      'with a history entry missing its outcome',
      () =>
        JSON.stringify({
          ...emptyState(),
          stacks: { a: record({ history: [{ ...entry(1), outcome: undefined as unknown as 'success' }] }) },
        }),
    ],
    [
      'with a "__proto__" record that is not one',
      () => '{"version":1,"stacks":{"__proto__":{"status":"synced"}},"runs":[]}',
    ],
    [
      'with a "constructor" record that is not one',
      () => '{"version":1,"stacks":{"constructor":{"project":"x"}},"runs":[]}',
    ],
    [
      'with a run lacking its stacks',
      () => JSON.stringify({ ...emptyState(), runs: [{ ...run(1), stacks: undefined }] }),
    ],
    ['with reconcileEnabled a string', () => JSON.stringify({ ...emptyState(), reconcileEnabled: 'yes' })],
  ])('a file %s is "corrupt", moved aside, and an empty state returned', async (_what, content) => {
    const text = content();
    await writeFile(statePath(), text);
    const at = new Date('2024-05-06T07:08:09.010Z');
    const outcome = await loadStateFile(statePath(), new FakeClock(0, at.getTime()));
    expect(outcome.kind).toBe('corrupt');
    expect(outcome.data).toEqual(emptyState());
    if (outcome.kind !== 'corrupt') throw new Error('unreachable');
    expect(outcome.reason).not.toBe('');
    expect(outcome.movedTo).toBe(`${statePath()}.corrupt-2024-05-06T07-08-09-010Z`);
    expect(await readFile(outcome.movedTo, 'utf8')).toBe(text);
    expect(await readdir(dir)).toEqual(['state.json.corrupt-2024-05-06T07-08-09-010Z']);
  });

  it('a directory in place of the file is moved aside too', async () => {
    await mkdir(statePath());
    await writeFile(join(statePath(), 'x'), 'inside');
    const outcome = await loadStateFile(
      statePath(),
      new FakeClock(0, Date.parse('2024-05-06T07:08:09.010Z')),
    );
    expect(outcome.kind).toBe('corrupt');
    if (outcome.kind !== 'corrupt') throw new Error('unreachable');
    expect(outcome.reason).toMatch(/EISDIR/);
    expect(await readdir(outcome.movedTo)).toEqual(['x']);
    await writeStateFile(statePath(), emptyState());
    expect((await loadStateFile(statePath())).kind).toBe('ok');
  });

  it('the reason names the field that does not fit', async () => {
    await writeFile(
      statePath(),
      JSON.stringify({ ...emptyState(), stacks: { 'apps/web': { ...record(), synced: undefined } } }),
    );
    const outcome = await loadStateFile(statePath());
    expect(outcome.kind === 'corrupt' && outcome.reason).toBe('stack "apps/web".synced is not an object');
  });

  it('stacks named __proto__, constructor or toString are stacks like any other', async () => {
    const text = `{"version":1,"reconcileEnabled":null,"lastGood":null,"runs":[],"stacks":{"__proto__":${JSON.stringify(record({ project: 'p1' }))},"constructor":${JSON.stringify(record({ project: 'p2' }))}}}`;
    await writeFile(statePath(), text);
    const store = await StateStore.open({ dataDir: dir, logger: memoryLogger().logger });
    expect(store.loaded).toBe('ok');
    expect(store.stack('__proto__')?.project).toBe('p1');
    expect(store.stack('constructor')?.project).toBe('p2');
    expect(store.stack('toString')).toBeUndefined();
    expect(store.stack('hasOwnProperty')).toBeUndefined();
    store.setStack('toString', record({ project: 'p3' }));
    store.deleteStack('constructor');
    await store.flush();
    const again = await StateStore.open({ dataDir: dir, logger: memoryLogger().logger });
    expect(Object.keys(again.data.stacks).sort()).toEqual(['__proto__', 'toString']);
    expect(again.stack('toString')?.project).toBe('p3');
    expect(Object.getPrototypeOf(again.data.stacks)).toBeNull();
  });

  it('a version mismatch names the version', async () => {
    await writeFile(statePath(), JSON.stringify({ ...emptyState(), version: 99 }));
    const outcome = await loadStateFile(statePath());
    expect(outcome.kind === 'corrupt' && outcome.reason).toContain('99');
  });

  it('a stack recorded as syncing loads as out_of_sync, saying it was interrupted', async () => {
    const data: StateData = {
      ...emptyState(),
      stacks: {
        'apps/web': record({ status: 'syncing', message: 'applying' }),
        db: record({ status: 'failed', message: 'boom' }),
      },
    };
    await writeFile(statePath(), JSON.stringify(data));
    const outcome = await loadStateFile(statePath());
    expect(outcome.kind).toBe('ok');
    const web = outcome.data.stacks['apps/web'];
    expect(web?.status).toBe('out_of_sync');
    expect(web?.message).toMatch(/interrupted/);
    expect(web?.synced).toEqual(record().synced);
    expect(outcome.data.stacks['db']).toEqual(record({ status: 'failed', message: 'boom' }));
  });

  it('fills fields added with defaults', async () => {
    await writeFile(statePath(), JSON.stringify({ version: STATE_VERSION, stacks: {} }));
    expect(await loadStateFile(statePath())).toEqual({ kind: 'ok', data: emptyState() });
  });

  it('a write into a directory that cannot exist fails (ENOTDIR) and leaves no temp file', async () => {
    const blocker = join(dir, 'file');
    await writeFile(blocker, 'x');
    await expect(writeStateFile(join(blocker, 'data', 'state.json'), emptyState())).rejects.toMatchObject({
      code: 'ENOTDIR',
    });
    // A failure after the temp file was opened (the target is a non-empty directory) removes it.
    const target = join(dir, 'state.json');
    await mkdir(join(target, 'inner'), { recursive: true });
    await expect(writeStateFile(target, emptyState())).rejects.toThrow();
    expect((await readdir(dir)).sort()).toEqual(['file', 'state.json']);
  });

  it('two state files in one directory do not share a temp file', async () => {
    const a = join(dir, 'a.json');
    const b = join(dir, 'b.json');
    await Promise.all([
      writeStateFile(a, { ...emptyState(), stacks: { a: record() } }),
      writeStateFile(b, { ...emptyState(), stacks: { b: record() } }),
    ]);
    expect(Object.keys((await loadStateFile(a)).data.stacks)).toEqual(['a']);
    expect(Object.keys((await loadStateFile(b)).data.stacks)).toEqual(['b']);
  });
});

describe('StateStore', () => {
  it('starts empty from a missing file, logging it', async () => {
    const log = memoryLogger();
    const store = await StateStore.open({ dataDir: dir, logger: log.logger });
    expect(store.loaded).toBe('missing');
    expect(store.data).toEqual(emptyState());
    expect(store.path).toBe(statePath());
    expect((await log.lines()).map((l) => l['event'])).toEqual(['state.missing']);
  });

  it('persists changes and reloads them', async () => {
    const log = memoryLogger();
    const store = await StateStore.open({ dataDir: dir, logger: log.logger });
    store.setStack('apps/web', record());
    store.setStack('db', record({ project: 'db' }));
    store.deleteStack('db');
    store.deleteStack('never-there');
    store.setReconcileEnabled(false);
    store.putRun(run(1));
    await store.flush();
    const reopened = await StateStore.open({ dataDir: dir, logger: log.logger });
    expect(reopened.loaded).toBe('ok');
    expect(reopened.data).toEqual(store.data);
    expect(reopened.stack('apps/web')).toEqual(record());
    expect(reopened.stack('db')).toBeUndefined();
    expect(reopened.data.reconcileEnabled).toBe(false);
  });

  it('a corrupt file is moved aside, the store starts empty and a warning is logged', async () => {
    await writeFile(statePath(), '{"version": 1, "stacks": {"apps/web": {"status": "syn');
    const log = memoryLogger();
    const at = new Date('2024-05-06T07:08:09.010Z');
    const store = await StateStore.open({
      dataDir: dir,
      logger: log.logger,
      clock: new FakeClock(0, at.getTime()),
    });
    expect(store.loaded).toBe('corrupt');
    expect(store.data).toEqual(emptyState());
    const moved = `${statePath()}.corrupt-2024-05-06T07-08-09-010Z`;
    expect(await readdir(dir)).toEqual(['state.json.corrupt-2024-05-06T07-08-09-010Z']);
    const lines = await log.lines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'warn',
      event: 'state.corrupt',
      path: statePath(),
      movedTo: moved,
    });
    expect(typeof lines[0]?.['reason']).toBe('string');
    // The next write starts a fresh file.
    store.setStack('a', record());
    await store.flush();
    expect(Object.keys((await readState()).stacks)).toEqual(['a']);
  });

  it('does not write until something changes', async () => {
    const store = await StateStore.open({ dataDir: dir, logger: memoryLogger().logger });
    await store.flush();
    expect(await readdir(dir)).toEqual([]);
  });

  it('history is bounded, newest first', () => {
    let r = record();
    for (let i = 1; i <= HISTORY_LIMIT + 5; i += 1) r = StateStore.withHistory(r, entry(i));
    expect(r.history).toHaveLength(HISTORY_LIMIT);
    expect(r.history[0]).toEqual(entry(HISTORY_LIMIT + 5));
    expect(r.history.at(-1)).toEqual(entry(6));
  });

  it('runs are bounded, newest first, and a run is replaced by id', async () => {
    const store = await StateStore.open({ dataDir: dir, logger: memoryLogger().logger });
    for (let i = 1; i <= RUNS_LIMIT + 7; i += 1) store.putRun(run(i));
    store.putRun({ ...run(RUNS_LIMIT + 7), finishedAt: '2024-01-01T00:01:00.000Z' });
    expect(store.data.runs).toHaveLength(RUNS_LIMIT);
    expect(store.data.runs[0]?.finishedAt).toBe('2024-01-01T00:01:00.000Z');
    expect(store.data.runs.map((r) => r.id)).toEqual(
      Array.from({ length: RUNS_LIMIT }, (_, i) => RUNS_LIMIT + 7 - i),
    );
    await store.flush();
    expect((await readState()).runs).toHaveLength(RUNS_LIMIT);
  });

  it('never mutates a record it handed out; its map of stacks changes in place', async () => {
    const store = await StateStore.open({ dataDir: dir, logger: memoryLogger().logger });
    const before = store.data;
    const first = record({ message: 'first' });
    store.setStack('a', first);
    const handed = store.stack('a');
    store.setStack('a', record({ message: 'second' }));
    expect(handed).toBe(first);
    expect(first.message).toBe('first');
    expect(store.data).not.toBe(before);
    // One map for every change: a thousand changes cost a thousand, not a million copies.
    expect(store.data.stacks).toBe(before.stacks);
    store.deleteStack('a');
    expect(store.stack('a')).toBeUndefined();
    expect(Object.getPrototypeOf(store.data.stacks)).toBeNull();
    await store.flush();
  });

  it('flush waits for writes in flight, and many quick changes end with the latest state on disk', async () => {
    const store = await StateStore.open({ dataDir: dir, logger: memoryLogger().logger });
    for (let i = 0; i < 200; i += 1) {
      store.setStack(`s${i % 10}`, record({ message: `change ${i}` }));
      if (i % 37 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await store.flush();
    const onDisk = await readState();
    expect(onDisk).toEqual(store.data);
    expect(onDisk.stacks['s9']?.message).toBe('change 199');
    expect(Object.keys(onDisk.stacks)).toHaveLength(10);
    expect(await readdir(dir)).toEqual(['state.json']);
  });

  it('changes made while a write is in flight are written by the time flush resolves', async () => {
    const store = await StateStore.open({ dataDir: dir, logger: memoryLogger().logger });
    store.setStack('a', record({ message: 'first' }));
    const first = store.flush();
    store.setStack('a', record({ message: 'second' }));
    await first;
    await store.flush();
    expect((await readState()).stacks['a']?.message).toBe('second');
  });

  it('concurrent flushes all resolve', async () => {
    const store = await StateStore.open({ dataDir: dir, logger: memoryLogger().logger });
    store.setStack('a', record());
    await Promise.all([store.flush(), store.flush(), store.flush()]);
    expect((await readState()).stacks['a']).toEqual(record());
  });

  it('a write failure is logged, does not throw, keeps the state in memory and is retried', async () => {
    const dataDir = join(dir, 'data');
    const log = memoryLogger();
    const store = await StateStore.open({ dataDir, logger: log.logger });
    // The data directory's parent becomes a regular file: every write fails with ENOTDIR
    // (root ignores permission bits, so chmod would not do).
    await rm(dir, { recursive: true });
    await writeFile(dir, 'not a directory');
    try {
      store.setStack('a', record());
      await expect(store.flush()).resolves.toBeUndefined();
      expect(store.stack('a')).toEqual(record());
      const failures = (await log.lines()).filter((l) => l['event'] === 'state.write_failed');
      expect(failures).toHaveLength(1);
      expect(failures[0]).toMatchObject({ level: 'error', path: join(dataDir, 'state.json') });
      expect(failures[0]?.['reason']).toMatch(/ENOTDIR/);

      // flush retries the unsaved state (and fails again, logged, still without throwing).
      await store.flush();
      expect((await log.lines()).filter((l) => l['event'] === 'state.write_failed')).toHaveLength(2);

      // Once the disk is back, flush writes what was kept in memory.
      await rm(dir);
      await store.flush();
      expect((await loadStateFile(join(dataDir, 'state.json'))).data.stacks['a']).toEqual(record());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
