/** The digest watcher on a FakeClock with a scripted registry (pure logic; the real registry is in test/e2e). */
import { describe, expect, it } from '@jest/globals';
import { FakeClock } from '../../pkg/clock/fake.js';
import { memoryLogger } from '../log/memory.test-helpers.js';
import { desiredStack } from '../reconciler/fixtures.test-helpers.js';
import { IMAGE_FIRST_CHECK_MS } from '../schedule/index.js';
import type { Snapshot } from '../source/types.js';
import type { UpdatePolicy } from '../source/x_stackd.js';
import { type ImageReference } from './reference.js';
import { ImageWatcher } from './watcher.js';

const HOUR = 3_600_000;

function snapshot(): Snapshot {
  const stacks = new Map([
    [
      'web',
      desiredStack('web', { app: { image: 'r:5000/app:1', update: 'digest' }, db: { image: 'r:5000/db:1' } }),
    ],
    ['api', desiredStack('api', { app: { image: 'r:5000/app:1', update: 'notify' } })],
    [
      'other',
      desiredStack('other', {
        built: { image: 'r:5000/built:1', build: true, update: 'digest' },
        pinned: { image: `r:5000/pinned@sha256:${'a'.repeat(64)}`, update: 'digest' },
        off: { image: 'r:5000/off:1', update: 'off' },
      }),
    ],
  ]);
  return { revision: 'r1', fetchedAt: new Date(0), stacks };
}

function setup(global: UpdatePolicy = 'off') {
  const clock = new FakeClock();
  const { logger, lines } = memoryLogger();
  const answers = new Map<string, string | Error>();
  const asked: string[] = [];
  const changes: string[][] = [];
  const checks: string[] = [];
  const watcher = new ImageWatcher({
    registry: {
      headDigest(ref: ImageReference) {
        const key = `${ref.name}:${ref.tag ?? ''}`;
        asked.push(key);
        const answer = answers.get(key) ?? new Error(`${ref.registry} unreachable`);
        return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
      },
    },
    logger,
    clock,
    policy: () => global,
    pollIntervalMs: HOUR,
    onChange: (stacks) => changes.push([...stacks]),
    onCheck: (result) => checks.push(result),
    random: () => 0.5,
  });
  return { clock, watcher, answers, asked, changes, checks, lines };
}

describe('ImageWatcher', () => {
  it('watches tags of services whose policy is not off, once per tag; not built, pinned or off ones', async () => {
    const t = setup();
    t.answers.set('r:5000/app:1', 'sha256:one');
    t.watcher.watch(snapshot());
    t.watcher.start();
    await t.clock.advanceAsync(IMAGE_FIRST_CHECK_MS);
    expect(t.asked).toEqual(['r:5000/app:1']);
    expect(t.changes).toEqual([['api', 'web']]);
    expect(t.watcher.available('r:5000/app:1')?.digest).toBe('sha256:one');
    await t.watcher.stop();
  });

  it('the global policy watches services that set none', async () => {
    const t = setup('notify');
    t.watcher.watch(snapshot());
    await t.watcher.checkAll();
    expect(t.asked.sort()).toEqual(['r:5000/app:1', 'r:5000/db:1']);
  });

  it('polls every pollInterval (jittered) and reports only a changed digest', async () => {
    const t = setup();
    t.answers.set('r:5000/app:1', 'sha256:one');
    t.watcher.watch(snapshot());
    t.watcher.start();
    await t.clock.advanceAsync(IMAGE_FIRST_CHECK_MS);
    await t.clock.advanceAsync(1.1 * HOUR);
    expect(t.asked).toHaveLength(2);
    expect(t.changes).toHaveLength(1);
    t.answers.set('r:5000/app:1', 'sha256:two');
    await t.clock.advanceAsync(1.1 * HOUR);
    expect(t.changes).toEqual([
      ['api', 'web'],
      ['api', 'web'],
    ]);
    expect(t.checks).toEqual(['success', 'success', 'success']);
    await t.watcher.stop();
    await t.clock.advanceAsync(2 * HOUR);
    expect(t.asked).toHaveLength(3);
  });

  it('a failed check is counted and logged once per streak; the last digest known stays', async () => {
    const t = setup();
    t.answers.set('r:5000/app:1', 'sha256:one');
    t.watcher.watch(snapshot());
    await t.watcher.checkAll();
    t.answers.delete('r:5000/app:1');
    await t.watcher.checkAll();
    await t.watcher.checkAll();
    expect(t.checks).toEqual(['success', 'failure', 'failure']);
    expect(t.watcher.available('r:5000/app:1')?.digest).toBe('sha256:one');
    const failed = (await t.lines()).filter((l) => l['event'] === 'images.check_failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ level: 'warn', image: 'r:5000/app:1', stacks: ['web', 'api'] });
    expect(t.changes).toHaveLength(1);
  });

  it('a push checks just the watched tags it names, at once', async () => {
    const t = setup();
    t.answers.set('r:5000/app:1', 'sha256:one');
    t.watcher.watch(snapshot());
    expect(t.watcher.pushed([{ name: 'r:5000/db', tag: '1' }])).toBe(0);
    expect(
      t.watcher.pushed([
        { name: 'r:5000/app', tag: '1' },
        { name: 'r:5000/app', tag: '1' },
      ]),
    ).toBe(2);
    await t.clock.advanceAsync(0);
    expect(t.asked).toEqual(['r:5000/app:1']);
    expect(t.changes).toEqual([['api', 'web']]);
  });

  it('forgets a tag whose pull failed, and tags no longer watched', async () => {
    const t = setup();
    t.answers.set('r:5000/app:1', 'sha256:one');
    t.watcher.watch(snapshot());
    await t.watcher.checkAll();
    t.watcher.forget('r:5000/app:1');
    expect(t.watcher.available('r:5000/app:1')).toBeUndefined();
    await t.watcher.checkAll();
    t.watcher.watch({ ...snapshot(), stacks: new Map() });
    expect(t.watcher.available('r:5000/app:1')).toBeUndefined();
  });
});
