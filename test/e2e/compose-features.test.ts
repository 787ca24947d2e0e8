/**
 * Compose features that change which containers `compose up` keeps (compose v2): `deploy.replicas`
 * and `scale` (including 0), `profiles`, top-level `include:` (its services labelled like the
 * others), and a project renamed with `name:`.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { engine } from '../helpers/docker.js';
import { Harness, composeFile, stackOf } from '../helpers/stackd.js';

const replicated = (n: number): string =>
  composeFile({
    web: { extra: `deploy:\n  replicas: ${n}` },
    keep: {},
    zero: { extra: 'deploy:\n  replicas: 0' },
    dbg: { extra: 'profiles: [debug]' },
  });

describe('sync --once: replicas, profiles, include, renamed projects', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await Harness.create('features');
  });

  afterAll(async () => {
    await h.cleanup();
  });

  const ids = async (service: string): Promise<string[]> =>
    (await h.containers('rep'))
      .filter((c) => c.Labels['com.docker.compose.service'] === service)
      .map((c) => c.Id)
      .sort();

  it('runs every replica, none of a service scaled to 0 or behind a profile; a second pass changes nothing', async () => {
    await h.commit({
      'rep/compose.yaml': replicated(2),
      'inc/compose.yaml': `include: [db.yaml]\n${composeFile({ i: {} })}`,
      'inc/db.yaml': composeFile({ db: {} }),
      'plain/compose.yaml': composeFile({ p: {} }),
    });
    const first = await h.sync();
    expect(first.exitCode).toBe(0);
    expect(stackOf(first.response, h.id('rep')).status).toBe('synced');
    expect(stackOf(first.response, h.id('plain')).status).toBe('synced');
    expect(stackOf(first.response, h.id('inc')).status).toBe('synced');
    const included = await h.containers('inc');
    expect(
      included.map((c) => [c.Labels['com.docker.compose.service'], c.Labels['io.stackd.stack']]).sort(),
    ).toEqual([
      ['db', h.id('inc')],
      ['i', h.id('inc')],
    ]);
    const web = await ids('web');
    expect(web).toHaveLength(2);
    expect(await ids('zero')).toHaveLength(0);
    expect(await ids('dbg')).toHaveLength(0);

    const second = await h.sync();
    expect(stackOf(second.response, h.id('rep'))).toMatchObject({ status: 'synced' });
    expect(await ids('web')).toEqual(web);
  });

  it('a replica removed by hand is recreated; the other keeps its container', async () => {
    const [gone, kept] = await ids('web');
    if (gone === undefined || kept === undefined) throw new Error('expected two replicas');
    await engine.getContainer(gone).remove({ force: true });
    const healed = await h.sync();
    expect(stackOf(healed.response, h.id('rep')).status).toBe('synced');
    const now = await ids('web');
    expect(now).toHaveLength(2);
    expect(now).toContain(kept);
    expect(now).not.toContain(gone);
  });

  it('scaling a service up, then down to 0, in Git converges', async () => {
    await h.commit({ 'rep/compose.yaml': replicated(3) });
    const up = await h.sync();
    expect(stackOf(up.response, h.id('rep')).status).toBe('synced');
    expect(await ids('web')).toHaveLength(3);

    await h.commit({ 'rep/compose.yaml': replicated(0) });
    const down = await h.sync();
    expect(stackOf(down.response, h.id('rep'))).toMatchObject({ status: 'synced', message: '' });
    expect(await ids('web')).toHaveLength(0);
    expect(await ids('keep')).toHaveLength(1);
    const again = await h.sync();
    expect(stackOf(again.response, h.id('rep')).status).toBe('synced');
  });

  it('a project renamed in Git: held with prune off; with prune on the old project goes first', async () => {
    await h.commit({ 'ren/compose.yaml': composeFile({ r: {} }) });
    expect(stackOf((await h.sync()).response, h.id('ren')).status).toBe('synced');
    const oldProject = h.project('ren');
    const newProject = `${h.prefix}-renamed`;
    const inProject = async (p: string) =>
      engine.listContainers({ all: true, filters: { label: [`com.docker.compose.project=${p}`] } });
    expect(await inProject(oldProject)).toHaveLength(1);

    await h.commit({ 'ren/compose.yaml': `name: ${newProject}\n${composeFile({ r: {} })}` });
    const held = await h.sync();
    expect(stackOf(held.response, h.id('ren'))).toMatchObject({
      status: 'out_of_sync',
      project: newProject,
      message: expect.stringContaining(`still runs as ${oldProject}; removal is disabled`),
    });
    expect(await inProject(oldProject)).toHaveLength(1);
    expect(await inProject(newProject)).toHaveLength(0);

    const moved = await h.sync({ STACKD_RECONCILE_PRUNE: 'true' });
    expect(stackOf(moved.response, h.id('ren'))).toMatchObject({ status: 'synced', project: newProject });
    expect(await inProject(oldProject)).toHaveLength(0);
    const now = await inProject(newProject);
    expect(now.map((c) => [c.State, c.Labels['io.stackd.stack']])).toEqual([['running', h.id('ren')]]);
    const again = await h.sync({ STACKD_RECONCILE_PRUNE: 'true' });
    expect(stackOf(again.response, h.id('ren')).status).toBe('synced');
    expect((await inProject(newProject)).map((c) => c.Id)).toEqual(now.map((c) => c.Id));
  });

  it('a rename in a commit compose rejects leaves the old project running', async () => {
    await h.commit({ 'bad/compose.yaml': composeFile({ b: {} }) });
    expect(stackOf((await h.sync()).response, h.id('bad')).status).toBe('synced');
    const before = await h.ids('bad');
    await h.commit({
      'bad/compose.yaml': `name: ${h.prefix}-badnew\n${composeFile({ b: { extra: 'no_such_key: 1' } })}`,
    });
    const failed = await h.sync({ STACKD_RECONCILE_PRUNE: 'true' });
    expect(stackOf(failed.response, h.id('bad'))).toMatchObject({
      status: 'failed',
      message: expect.stringContaining('compose rejected the stack'),
    });
    expect(await h.ids('bad')).toEqual(before);
  });

  it('a stack directory moved with its name: kept: the new id takes the project over, nothing is removed', async () => {
    const named = `name: ${h.prefix}-keep\n${composeFile({ m: {} })}`;
    await h.commit({ 'mv1/compose.yaml': named });
    expect(stackOf((await h.sync()).response, h.id('mv1')).status).toBe('synced');
    await h.commit({ 'mv1/compose.yaml': null, 'mv2/compose.yaml': named });
    const moved = await h.sync({ STACKD_RECONCILE_PRUNE: 'true' });
    expect(stackOf(moved.response, h.id('mv2')).status).toBe('synced');
    expect(stackOf(moved.response, h.id('mv1')).status).toBe('missing');
    const containers = await engine.listContainers({
      all: true,
      filters: { label: [`com.docker.compose.project=${h.prefix}-keep`] },
    });
    expect(containers.map((c) => [c.State, c.Labels['io.stackd.stack']])).toEqual([['running', h.id('mv2')]]);
  });
});
