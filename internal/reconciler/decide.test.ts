import { describe, expect, it } from '@jest/globals';
import { decide, type DecisionSettings } from './decide.js';
import { INSTANCE, container, desiredStack, project } from './fixtures.test-helpers.js';
import { planDesired } from './plan.js';
import { leftoverProject, renamedProjects } from './universe.js';
import type { Observation, ObservedProject } from '../informer/types.js';
import type { Snapshot } from '../source/types.js';

const ON: DecisionSettings = { enabled: true, prune: true, allowEmpty: false, selfHeal: true };

describe('decide', () => {
  const stack = desiredStack('web', { app: 'sha256:a' });
  const running = project('web', [container('web', 'app', { hash: 'sha256:a' })]);
  const stopped = project('web', [
    container('web', 'app', { hash: 'sha256:a', state: 'exited', exitCode: 0 }),
  ]);
  const base = { desiredEmpty: false, settings: ON, instance: INSTANCE, force: false };

  it.each([
    ['in sync', { desired: stack, observed: running }, 'in_sync'],
    ['forced sync', { desired: stack, observed: running, force: true }, 'apply'],
    ['drift, self-heal on', { desired: stack, observed: stopped }, 'apply'],
    [
      'drift, self-heal off',
      { desired: stack, observed: stopped, settings: { ...ON, selfHeal: false } },
      'hold',
    ],
    [
      'drift, self-heal off, forced',
      { desired: stack, observed: stopped, settings: { ...ON, selfHeal: false }, force: true },
      'apply',
    ],
    ['paused', { desired: undefined, observed: undefined, settings: { ...ON, enabled: false } }, 'gone'],
    ['paused change', { desired: stack, observed: undefined, settings: { ...ON, enabled: false } }, 'hold'],
    ['invalid', { desired: { ...stack, error: 'bad', composeHash: null }, observed: running }, 'invalid'],
    [
      'other instance',
      { desired: stack, observed: project('web', [container('web', 'app', { managedBy: 'x' })]) },
      'foreign',
    ],
    ['undesired, prune on', { desired: undefined, observed: running }, 'remove'],
    [
      'undesired, prune off',
      { desired: undefined, observed: running, settings: { ...ON, prune: false } },
      'hold',
    ],
    ['undesired, empty desired state', { desired: undefined, observed: running, desiredEmpty: true }, 'hold'],
    [
      'undesired, empty desired state allowed',
      { desired: undefined, observed: running, desiredEmpty: true, settings: { ...ON, allowEmpty: true } },
      'remove',
    ],
    [
      'undesired with foreign containers',
      {
        desired: undefined,
        observed: project('web', [...running.containers, container('web', 'x', { managedBy: null })]),
      },
      'hold',
    ],
  ] as const)('%s', (_name, input, kind) => {
    expect(decide({ ...base, ...input }).kind).toBe(kind);
  });

  it('refuses to adopt a project whose unlabelled containers include services not in Git', () => {
    const adopted = project('web', [
      container('web', 'app', { managedBy: null }),
      container('web', 'extra', { managedBy: null }),
    ]);
    expect(decide({ ...base, desired: stack, observed: adopted })).toMatchObject({
      kind: 'foreign',
      message: expect.stringContaining('services not in Git (extra)'),
    });
    const onlyKnown = project('web', [container('web', 'app', { managedBy: null })]);
    expect(decide({ ...base, desired: stack, observed: onlyKnown }).kind).toBe('apply');
  });

  it('a renamed project: prune on removes the old one first; prune off, paused or not all ours holds', () => {
    const old = project('old_web', [container('old_web', 'app', { stack: 'web' })]);
    const renamed = { ...base, desired: stack, observed: undefined, renamedFrom: [old] };
    expect(decide(renamed)).toMatchObject({
      kind: 'apply',
      removeFirst: ['old_web'],
      plan: { action: 'deploy' },
    });
    expect(decide({ ...renamed, observed: running })).toMatchObject({
      kind: 'apply',
      removeFirst: ['old_web'],
      plan: { action: 'update', reason: 'project renamed from old_web: removing it, then up' },
    });
    expect(decide({ ...renamed, settings: { ...ON, prune: false } })).toMatchObject({
      kind: 'hold',
      message: expect.stringContaining('still runs as old_web; removal is disabled'),
    });
    expect(decide({ ...renamed, settings: { ...ON, enabled: false } })).toMatchObject({ kind: 'hold' });
    const mixed = project('old_web', [...old.containers, container('old_web', 'x', { managedBy: null })]);
    expect(decide({ ...renamed, renamedFrom: [mixed] })).toMatchObject({
      kind: 'hold',
      message: expect.stringContaining('project old_web also has containers stackd did not create'),
    });
  });

  it('a container labelled for another stack id is recreated with this one', () => {
    const moved = project('web', [container('web', 'app', { hash: 'sha256:a', stack: 'old/web' })]);
    expect(planDesired(stack, moved, { instance: INSTANCE }).services).toEqual([
      { name: 'app', change: 'recreate', why: 'labelled for stack old/web' },
    ]);
  });

  it('finds what a stack leaves behind: ours, labelled with its id, not wanted by a stack in Git', () => {
    const observation: Observation = {
      up: true,
      error: null,
      stale: false,
      at: new Date(0),
      projects: new Map(
        [
          project('new', [container('new', 'app', { stack: 'apps/web' })]),
          project('old', [container('old', 'app', { stack: 'apps/web' })]),
          project('taken', [container('taken', 'app', { stack: 'apps/web' })]),
          project('other', [container('other', 'app', { stack: 'apps/api' })]),
          project('theirs', [container('theirs', 'app', { stack: 'apps/web', managedBy: 'x' })]),
          project('mixed', [
            container('mixed', 'app', { stack: 'apps/web' }),
            container('mixed', 'y', { managedBy: null }),
          ]),
        ].map((p) => [p.project, p]),
      ),
    };
    const snapshot: Snapshot = {
      revision: 'r',
      fetchedAt: new Date(0),
      stacks: new Map([
        ['apps/web', desiredStack('apps/web', { app: 'sha256:a' }, { project: 'new' })],
        ['moved/here', desiredStack('moved/here', { app: 'sha256:a' }, { project: 'taken' })],
      ]),
    };
    const names = (ps: readonly ObservedProject[]) => ps.map((p) => p.project);
    expect(names(renamedProjects(observation, snapshot, 'apps/web', 'new', INSTANCE))).toEqual([
      'mixed',
      'old',
    ]);
    // Removed from Git: its leftover is a project no stack in Git wants; never `taken`.
    const without: Snapshot = {
      ...snapshot,
      stacks: new Map([...snapshot.stacks].filter(([id]) => id !== 'apps/web')),
    };
    expect(['mixed', 'new', 'old']).toContain(
      leftoverProject(observation, without, 'apps/web', INSTANCE)?.project,
    );
    const onlyTaken: Observation = {
      ...observation,
      projects: new Map([['taken', observation.projects.get('taken')!]]),
    };
    expect(leftoverProject(onlyTaken, without, 'apps/web', INSTANCE)).toBeUndefined();
  });

  it('explains why a removal is held', () => {
    const d = decide({ ...base, desired: undefined, observed: running, settings: { ...ON, prune: false } });
    expect(d).toMatchObject({ message: expect.stringContaining('reconcile.prune=false') });
  });
});
