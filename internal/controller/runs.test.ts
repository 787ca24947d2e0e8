import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { silentLogger } from '../log/index.js';
import { StateStore } from '../state/index.js';
import { FakeClock } from '../../pkg/clock/fake.js';
import { RunLog } from './runs.js';

describe('RunLog', () => {
  let dir: string;
  let state: StateStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stackd-runs-'));
    state = await StateStore.open({ dataDir: dir, logger: silentLogger() });
  });

  afterEach(async () => {
    await state.flush();
    await rm(dir, { recursive: true, force: true });
  });

  it('records each stack outcome and persists a run once all its stacks are done', () => {
    const log = new RunLog(state);
    log.open('webhook', 'rev1', ['a', 'b']);
    log.finish('a', 'synced', '');
    expect(state.data.runs).toHaveLength(0);
    expect(log.list()[0]).toMatchObject({
      trigger: 'webhook',
      finishedAt: null,
      stacks: [
        { id: 'a', outcome: 'synced' },
        { id: 'b', outcome: 'pending' },
      ],
    });
    log.finish('b', 'failed', 'boom');
    expect(state.data.runs).toHaveLength(1);
    expect(log.list()).toEqual([
      expect.objectContaining({
        id: 1,
        revision: 'rev1',
        finishedAt: expect.any(String),
        stacks: [
          { id: 'a', outcome: 'synced', message: '' },
          { id: 'b', outcome: 'failed', message: 'boom' },
        ],
      }),
    ]);
  });

  it('one reconcile finishes the stack in every open run waiting for it; ids continue after a restart', async () => {
    const log = new RunLog(state);
    log.open('poll', 'r', ['a']);
    log.open('resync', 'r', ['a', 'b']);
    log.finish('a', 'synced', '');
    expect(log.list().map((r) => [r.trigger, r.finishedAt === null])).toEqual([
      ['resync', true],
      ['poll', false],
    ]);
    log.finish('b', 'synced', '');
    await state.flush();
    const reopened = new RunLog(await StateStore.open({ dataDir: dir, logger: silentLogger() }));
    reopened.open('startup', 'r', ['a']);
    expect(reopened.list()[0]?.id).toBe(3);
  });

  it('stamps start and finish with the clock it is given', () => {
    const clock = new FakeClock();
    const log = new RunLog(state, clock);
    log.open('poll', 'r', ['a']);
    clock.advance(1500);
    log.finish('a', 'synced', '');
    expect(log.list()[0]).toMatchObject({
      startedAt: '2026-01-01T00:00:00.000Z',
      finishedAt: '2026-01-01T00:00:01.500Z',
    });
  });
});
