import { describe, expect, it } from '@jest/globals';
import { LABEL_COMPOSE_HASH, LABEL_REVISION } from '../labels/index.js';
import { serviceLabels, syncedFromLabels } from './carry_forward.js';
import { decide, type DecisionSettings } from './decide.js';
import { INSTANCE, container, desiredStack, project } from './fixtures.test-helpers.js';
import { planDesired } from './plan.js';
import { assess, waitReady } from './readiness.js';
import { leftoverProject, renamedProjects } from './universe.js';
import type { Observation, ObservedProject } from '../informer/types.js';
import type { Snapshot } from '../source/types.js';

const ON: DecisionSettings = { enabled: true, prune: true, allowEmpty: false, selfHeal: true };

describe('planDesired', () => {
  const stack = desiredStack('web', { app: 'sha256:a', db: 'sha256:d' });
  const ctx = { instance: INSTANCE };

  it('is in sync when every service runs with its desired hash', () => {
    const obs = project('web', [
      container('web', 'app', { hash: 'sha256:a' }),
      container('web', 'db', { hash: 'sha256:d' }),
    ]);
    expect(planDesired(stack, obs, ctx)).toMatchObject({ action: 'none', services: [] });
  });

  it('deploys a stack with no containers', () => {
    expect(planDesired(stack, undefined, ctx)).toMatchObject({ action: 'deploy', driftOnly: false });
  });

  it('recreates only the service whose hash changed', () => {
    const obs = project('web', [
      container('web', 'app', { hash: 'sha256:OLD' }),
      container('web', 'db', { hash: 'sha256:d' }),
    ]);
    const plan = planDesired(stack, obs, ctx);
    expect(plan.action).toBe('update');
    expect(plan.driftOnly).toBe(false);
    expect(plan.services).toEqual([
      { name: 'app', change: 'recreate', why: expect.stringContaining('service hash') },
    ]);
  });

  it('treats missing labels and another instance as out of sync', () => {
    const obs = project('web', [
      container('web', 'app', { managedBy: null }),
      container('web', 'db', { hash: 'sha256:d', managedBy: 'other' }),
    ]);
    const plan = planDesired(stack, obs, ctx);
    expect(plan.services.map((s) => [s.name, s.why])).toEqual([
      ['app', 'no stackd labels'],
      ['db', 'managed by instance other'],
    ]);
  });

  it('calls a stopped or removed container drift', () => {
    const obs = project('web', [
      container('web', 'app', { hash: 'sha256:a', state: 'exited', exitCode: 137 }),
    ]);
    const plan = planDesired(stack, obs, ctx);
    expect(plan.driftOnly).toBe(true);
    expect(plan.services).toEqual([
      { name: 'app', change: 'start', why: 'container exited' },
      { name: 'db', change: 'create', why: 'no container' },
    ]);
  });

  it('accepts a one-shot service that exited 0, not one that exited 1', () => {
    const oneShot = desiredStack('job', { run: { hash: 'sha256:r', oneShot: true } });
    const ok = project('job', [container('job', 'run', { hash: 'sha256:r', state: 'exited', exitCode: 0 })]);
    const bad = project('job', [container('job', 'run', { hash: 'sha256:r', state: 'exited', exitCode: 1 })]);
    expect(planDesired(oneShot, ok, ctx).action).toBe('none');
    expect(planDesired(oneShot, bad, ctx).action).toBe('update');
  });

  it('counts replicas: fewer or more containers than wanted is drift; an unknown count wants one', () => {
    const scaled = desiredStack('s', { app: { hash: 'sha256:a', replicas: 3 } });
    const two = project('s', [
      container('s', 'app', { hash: 'sha256:a' }),
      container('s', 'app', { hash: 'sha256:a' }),
    ]);
    expect(planDesired(scaled, two, ctx)).toMatchObject({
      action: 'update',
      driftOnly: true,
      services: [{ name: 'app', change: 'create', why: '2 containers, 3 wanted' }],
    });
    const four = project(
      's',
      [1, 2, 3, 4].map(() => container('s', 'app', { hash: 'sha256:a' })),
    );
    expect(planDesired(scaled, four, ctx).services).toEqual([
      { name: 'app', change: 'remove', why: '4 containers, 3 wanted' },
    ]);
    const three = project(
      's',
      [1, 2, 3].map(() => container('s', 'app', { hash: 'sha256:a' })),
    );
    expect(planDesired(scaled, three, ctx).action).toBe('none');
    const unknown = desiredStack('s', { app: { hash: 'sha256:a', replicas: null } });
    expect(planDesired(unknown, two, ctx).action).toBe('none');
    expect(planDesired(unknown, project('s', []), ctx).action).toBe('deploy');
  });

  it('removes orphan services', () => {
    const obs = project('web', [
      container('web', 'app', { hash: 'sha256:a' }),
      container('web', 'db', { hash: 'sha256:d' }),
      container('web', 'old', {}),
    ]);
    expect(planDesired(stack, obs, ctx).services).toEqual([
      { name: 'old', change: 'remove', why: 'orphan: not in the desired stack' },
    ]);
  });
});

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

describe('carry-forward labels', () => {
  it('keeps revision and compose hash of unchanged services, sets new ones on changed', () => {
    const stack = desiredStack('web', { app: 'sha256:a', db: 'sha256:NEW' });
    const obs = project('web', [
      container('web', 'app', { hash: 'sha256:a' }),
      container('web', 'db', { hash: 'sha256:d' }),
    ]);
    const labels = serviceLabels(stack, obs, { revision: 'rev2', composeHash: 'sha256:new' }, INSTANCE);
    expect(labels['app']?.[LABEL_REVISION]).toBe('rev1');
    expect(labels['app']?.[LABEL_COMPOSE_HASH]).toBe('sha256:old');
    expect(labels['db']?.[LABEL_REVISION]).toBe('rev2');
    expect(labels['db']?.[LABEL_COMPOSE_HASH]).toBe('sha256:new');
  });

  it('rebuilds synced info from the newest container of ours', () => {
    const a = container('web', 'app', { labels: {} });
    const b = {
      ...container('web', 'db'),
      labels: { ...container('web', 'db').labels, [LABEL_REVISION]: 'rev9' },
    };
    expect(syncedFromLabels(project('web', [a, b]), INSTANCE)).toEqual({
      revision: 'rev9',
      composeHash: 'sha256:old',
    });
    expect(
      syncedFromLabels(project('web', [container('web', 'x', { managedBy: null })]), INSTANCE),
    ).toBeNull();
  });
});

describe('readiness', () => {
  const stack = desiredStack('web', { app: 'sha256:a', hc: { hash: 'sha256:h', healthcheck: true } });
  it.each([
    [
      'all running',
      [
        ['app', 'running', null, null],
        ['hc', 'running', 'healthy', null],
      ],
      'ready',
    ],
    [
      'health starting',
      [
        ['app', 'running', null, null],
        ['hc', 'running', 'starting', null],
      ],
      'pending',
    ],
    [
      'unhealthy',
      [
        ['app', 'running', null, null],
        ['hc', 'running', 'unhealthy', null],
      ],
      'failed',
    ],
    [
      'exited 1',
      [
        ['app', 'exited', null, 1],
        ['hc', 'running', 'healthy', null],
      ],
      'failed',
    ],
    [
      'restarting',
      [
        ['app', 'restarting', null, 1],
        ['hc', 'running', 'healthy', null],
      ],
      'failed',
    ],
    [
      'created',
      [
        ['app', 'created', null, null],
        ['hc', 'running', 'healthy', null],
      ],
      'pending',
    ],
    ['missing', [['app', 'running', null, null]], 'pending'],
  ] as const)('%s', (_name, rows, expected) => {
    const obs = project(
      'web',
      rows.map(([service, state, health, exitCode]) =>
        container('web', service, { state, health, exitCode }),
      ),
    );
    const look = assess(stack, obs);
    expect(look === 'ready' ? 'ready' : 'pending' in look ? 'pending' : 'failed').toBe(expected);
  });
});

describe('assess with replicas', () => {
  it('waits until every replica has a container', () => {
    const stack = desiredStack('r', { app: { hash: 'sha256:a', replicas: 2 } });
    expect(assess(stack, project('r', [container('r', 'app')]))).toEqual({
      pending: 'app (1 of 2 containers)',
      missing: [],
    });
    expect(assess(stack, project('r', [container('r', 'app'), container('r', 'app')]))).toBe('ready');
  });

  it('fails fast when compose made no container for a service, instead of waiting for the timeout', async () => {
    const stack = desiredStack('r', { app: { hash: 'sha256:a', replicas: null }, db: 'sha256:d' });
    let now = 0;
    const looks: number[] = [];
    const result = await waitReady(stack, {
      observe: () => {
        looks.push(now);
        return Promise.resolve(project('r', [container('r', 'db', { state: 'created' })]));
      },
      deadline: 180_000,
      now: () => now,
      sleep: (ms) => {
        now += ms;
        return Promise.resolve();
      },
    });
    expect(result).toEqual({
      ok: false,
      message: expect.stringContaining('compose created no container for app') as unknown as string,
    });
    expect(looks).toEqual([0, 300]);
  });
});
