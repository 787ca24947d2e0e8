import { describe, expect, it } from '@jest/globals';
import { FakeClock } from '../../pkg/clock/fake.js';
import type { StackRecord } from '../state/index.js';
import { stackRecord as record } from '../state/record.test-helpers.js';
import type { HistoryEntry } from '../status/index.js';
import { CommitStatusReporter } from './commit_status.js';
import { BATCH_MAX_WINDOWS, Notices } from './notices.js';
import { NOTIFY_EVENTS, type CommitStatus, type Notification, type NotifyEvent } from './types.js';

const HOUR = 3_600_000;
const WINDOW = 5_000;
const DEFAULT_EVENTS = new Set<NotifyEvent>(['failed', 'recovered', 'rolled_back', 'removed']);

let seq = 0;
function entry(clock: FakeClock, fields: Partial<HistoryEntry> = {}): HistoryEntry {
  seq++;
  return {
    outcome: 'failure',
    at: new Date(clock.date().getTime() + seq).toISOString(),
    message: 'm',
    durationMs: 1,
    revision: 'c0ffee1',
    composeHash: 'sha256:h',
    action: 'update',
    ...fields,
  };
}

function setup(events: ReadonlySet<NotifyEvent> = DEFAULT_EVENTS, recorded: [string, StackRecord][] = []) {
  const clock = new FakeClock();
  const sent: Notification[] = [];
  const notices = new Notices(
    {
      instance: 'host1',
      clock,
      repeatIntervalMs: 24 * HOUR,
      batchWindowMs: WINDOW,
      events,
      send: (n) => sent.push(n),
    },
    recorded,
  );
  const fail = (id: string, message: string, revision = 'bad0001'): void => {
    const h = entry(clock, {
      outcome: 'failure',
      message,
      revision,
      changes: [{ service: 'app', change: 'recreate', why: 'definition' }],
    });
    notices.record(id, record({ status: 'failed', message, history: [h] }));
  };
  const sync = (id: string, revision = 'good001'): void => {
    const h = entry(clock, { outcome: 'success', message: 'changed: app (definition)', revision });
    notices.record(
      id,
      record({ status: 'synced', synced: { revision, composeHash: 'sha256:h', at: 'x' }, history: [h] }),
    );
  };
  return { clock, sent, notices, fail, sync };
}

describe('Notices: one notification per transition, bursts batched', () => {
  it('a bad commit failing 3 stacks is one `failed` message listing them, with reasons and changes', () => {
    const { clock, sent, fail } = setup();
    fail('apps/a', 'service app exited with code 1');
    clock.advance(2_000);
    fail('apps/b', 'compose rejected the stack: bad port');
    clock.advance(2_000);
    fail('apps/c', 'image missing');
    clock.advance(WINDOW - 1);
    expect(sent).toHaveLength(0);
    clock.advance(1);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ instance: 'host1', event: 'failed' });
    expect(sent[0]?.stacks.map((s) => [s.id, s.message, s.revision])).toEqual([
      ['apps/a', 'service app exited with code 1', 'bad0001'],
      ['apps/b', 'compose rejected the stack: bad port', 'bad0001'],
      ['apps/c', 'image missing', 'bad0001'],
    ]);
    expect(sent[0]?.stacks[0]?.changes).toEqual([{ service: 'app', change: 'recreate', why: 'definition' }]);
  });

  it('the same failure retried 10 times notifies once; after repeatInterval once more, marked repeated', () => {
    const { clock, sent, fail } = setup();
    for (let i = 0; i < 10; i++) {
      fail('apps/a', `service app exited with code 1\nlog line ${i}`);
      clock.advance(60_000);
    }
    expect(sent).toHaveLength(1);
    clock.advance(24 * HOUR);
    fail('apps/a', 'service app exited with code 1');
    clock.advance(WINDOW);
    expect(sent).toHaveLength(2);
    expect(sent[1]?.stacks[0]?.repeated).toBe(true);
  });

  it('another reason is another notification; the fix is one `recovered`', () => {
    const { clock, sent, fail, sync } = setup();
    fail('apps/a', 'service app exited with code 1');
    clock.advance(WINDOW);
    fail('apps/a', 'port 80 is in use');
    clock.advance(WINDOW);
    sync('apps/a');
    sync('apps/a');
    clock.advance(WINDOW);
    expect(sent.map((n) => [n.event, n.stacks.map((s) => s.id)])).toEqual([
      ['failed', ['apps/a']],
      ['failed', ['apps/a']],
      ['recovered', ['apps/a']],
    ]);
    expect(sent[2]?.stacks[0]?.revision).toBe('good001');
  });

  it('waits while reconciles are queued or running (the burst goes on), up to the deadline', () => {
    let busy = true;
    const clock = new FakeClock();
    const sent: Notification[] = [];
    const notices = new Notices({
      instance: 'host1',
      clock,
      repeatIntervalMs: HOUR,
      batchWindowMs: WINDOW,
      events: DEFAULT_EVENTS,
      send: (n) => sent.push(n),
      busy: () => busy,
    });
    const failed = (id: string): void => {
      notices.record(id, record({ status: 'failed', message: 'x', history: [entry(clock)] }));
    };
    failed('apps/a');
    clock.advance(3 * WINDOW);
    failed('apps/b');
    clock.advance(WINDOW);
    expect(sent).toHaveLength(0);
    busy = false;
    clock.advance(WINDOW);
    expect(sent.map((n) => n.stacks.length)).toEqual([2]);
    busy = true;
    failed('apps/c');
    clock.advance(BATCH_MAX_WINDOWS * WINDOW - 1);
    expect(sent).toHaveLength(1);
    clock.advance(1);
    expect(sent).toHaveLength(2);
  });

  it('a fix within the window of a second failure (the first was sent) is one `recovered`, never a stale `failed`', () => {
    const { clock, sent, fail, sync } = setup();
    fail('apps/a', 'service app exited with code 1');
    clock.advance(WINDOW);
    fail('apps/a', 'port 80 is in use');
    clock.advance(1_000);
    sync('apps/a');
    clock.advance(WINDOW);
    expect(sent.map((n) => n.event)).toEqual(['failed', 'recovered']);
  });

  it('a stack failing again while its recovery waits: the recovery is dropped, the failure goes', () => {
    const { clock, sent, fail, sync } = setup();
    fail('apps/a', 'one');
    clock.advance(WINDOW);
    sync('apps/a');
    clock.advance(1_000);
    fail('apps/a', 'two');
    clock.advance(WINDOW);
    expect(sent.map((n) => [n.event, n.stacks.map((s) => s.message)])).toEqual([
      ['failed', ['one']],
      ['failed', ['two']],
    ]);
  });

  it('a failure known at restart, then fixed: `recovered`', () => {
    const failed = record({ status: 'failed', message: 'known' });
    const { clock, sent, sync } = setup(DEFAULT_EVENTS, [['apps/a', failed]]);
    sync('apps/a');
    clock.advance(WINDOW);
    expect(sent.map((n) => n.event)).toEqual(['recovered']);
  });

  it('a failure fixed within one batch window sends nothing', () => {
    const { clock, sent, fail, sync } = setup();
    fail('apps/a', 'flaky');
    clock.advance(1_000);
    sync('apps/a');
    clock.advance(10 * WINDOW);
    expect(sent).toEqual([]);
  });

  it('a steady stream of notices still goes out within BATCH_MAX_WINDOWS windows', () => {
    const { clock, sent, fail } = setup();
    for (let i = 0; i < 100 && sent.length === 0; i++) {
      fail(`apps/s${i}`, 'broken');
      clock.advance(WINDOW - 1);
    }
    expect(sent).toHaveLength(1);
    expect(sent[0]!.stacks.length).toBe(Math.ceil((BATCH_MAX_WINDOWS * WINDOW) / (WINDOW - 1)));
  });

  it('a rollback is one `rolled_back` (not also `failed`); a removal is `removed`; synced only when asked for', () => {
    const { clock, sent, notices } = setup();
    const h = entry(clock, { outcome: 'failure' });
    notices.record(
      'apps/a',
      record({
        status: 'failed',
        message: 'update to bad0001 failed: x; rolled back to good001',
        history: [h],
        rollback: { from: 'bad0001', to: 'good001', at: h.at, reason: 'x' },
      }),
    );
    const removal = entry(clock, { outcome: 'success', action: 'remove', message: 'removed' });
    notices.record('apps/old', record({ status: 'missing', history: [removal] }));
    clock.advance(WINDOW);
    expect(sent.map((n) => [n.event, n.stacks.map((s) => s.id)])).toEqual([
      ['rolled_back', ['apps/a']],
      ['removed', ['apps/old']],
    ]);
    const all = setup(new Set(NOTIFY_EVENTS));
    all.sync('apps/a');
    all.clock.advance(WINDOW);
    expect(all.sent.map((n) => n.event)).toEqual(['synced']);
    const none = setup();
    none.sync('apps/a');
    none.clock.advance(WINDOW);
    expect(none.sent).toEqual([]);
  });

  it('a stack failed when stackd stopped is not notified again after a restart', () => {
    const failed = record({ status: 'failed', message: 'service app exited with code 1' });
    const { clock, sent, fail } = setup(DEFAULT_EVENTS, [['apps/a', failed]]);
    fail('apps/a', 'service app exited with code 1');
    clock.advance(WINDOW);
    expect(sent).toEqual([]);
  });
});

describe('CommitStatusReporter: pending, then success or failure, only for changed stacks', () => {
  function reporter() {
    const posted: CommitStatus[] = [];
    const r = new CommitStatusReporter({
      instance: 'host1',
      post: (s) => posted.push(s),
    });
    return { posted, r };
  }
  const SHA = 'a'.repeat(40);

  it('posts pending then success on the desired commit', () => {
    const { posted, r } = reporter();
    r.applyStarted('apps/web', { revision: SHA, composeHash: 'sha256:new' }, false);
    r.record('apps/web', record({ status: 'syncing' }));
    r.record(
      'apps/web',
      record({ status: 'synced', synced: { revision: SHA, composeHash: 'sha256:new', at: 'x' } }),
    );
    expect(posted.map((s) => [s.sha, s.context, s.state])).toEqual([
      [SHA, 'stackd/host1/apps/web', 'pending'],
      [SHA, 'stackd/host1/apps/web', 'success'],
    ]);
  });

  it('posts failure with the message; a retry does not post pending again', () => {
    const { posted, r } = reporter();
    r.applyStarted('apps/db', { revision: SHA, composeHash: 'sha256:new' }, false);
    r.record('apps/db', record({ status: 'failed', message: 'service db exited\nwith code 1' }));
    r.applyStarted('apps/db', { revision: SHA, composeHash: 'sha256:new' }, false);
    r.record('apps/db', record({ status: 'failed', message: 'service db exited\nwith code 1' }));
    expect(posted.map((s) => [s.state, s.description])).toEqual([
      ['pending', 'deploying apps/db'],
      ['failure', 'service db exited with code 1'],
      ['failure', 'service db exited with code 1'],
    ]);
  });

  it('posts nothing for a stack a commit did not change, nor for a drift repair (self-heal)', () => {
    const { posted, r } = reporter();
    r.record(
      'apps/other',
      record({ status: 'synced', synced: { revision: SHA, composeHash: 'sha256:o', at: 'x' } }),
    );
    r.applyStarted('apps/web', { revision: SHA, composeHash: 'sha256:same' }, true);
    r.record(
      'apps/web',
      record({ status: 'synced', synced: { revision: SHA, composeHash: 'sha256:same', at: 'x' } }),
    );
    expect(posted).toEqual([]);
  });
});
