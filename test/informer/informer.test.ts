import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import Dockerode from 'dockerode';
import { createInformer, type Informer } from '../../internal/informer/index.js';
import { cleanupProjects, docker, removeDir, waitFor } from '../helpers/docker.js';
import { Projects, compose, countLists, service } from './fixtures.js';

jest.setTimeout(60_000);

const projects = new Projects();
const client = new Dockerode();
const lists = countLists(client);
let informer: Informer | undefined;
const seen: string[] = [];

function live(): Informer {
  if (informer === undefined) throw new Error('informer not started');
  return informer;
}

afterAll(async () => {
  await informer?.stop();
  await cleanupProjects(projects.names);
  await Promise.all(projects.dirs.map(removeDir));
});

describe('informer on the real engine', () => {
  let existing: string;

  beforeAll(async () => {
    // A project that exists before the informer starts: one running service, one that exited 3,
    // and a one-off `compose run` container that must not count.
    const target = await projects.target('existing', [
      service('app'),
      service('oneshot', '    command: ["sh", "-c", "exit 3"]\n    restart: "no"\n'),
    ]);
    existing = target.project;
    await compose.up(target);
    await docker('compose', '-p', target.project, '-f', target.files[0] ?? '', 'run', '-d', 'app');
    await waitFor('oneshot to exit', async () => {
      const out = await docker(
        'ps',
        '-a',
        '--filter',
        `label=com.docker.compose.project=${existing}`,
        '--format',
        '{{.Status}}',
      );
      return out.includes('Exited (3)');
    });
    informer = createInformer({ docker: client });
    informer.onChange((p) => seen.push(p));
    await informer.start();
  });

  it('start lists the projects that already exist, without one-off containers', () => {
    const observation = live().current();
    expect(observation).toMatchObject({ up: true, stale: false, error: null });
    const project = observation.projects.get(existing);
    expect(project?.containers.map((c) => c.service)).toEqual(['app', 'oneshot']);
    expect(project?.containers[0]).toMatchObject({
      state: 'running',
      exitCode: null,
      health: null,
      project: existing,
    });
    expect(project?.containers[0]?.name).toMatch(new RegExp(`^${existing}-app-1$`));
    expect(project?.containers[1]).toMatchObject({ state: 'exited', exitCode: 3 });
    expect(seen).toContain(existing);
    expect(lists[0]).toBe('com.docker.compose.project');
  });

  it('a project brought up later appears through events, with few lists', async () => {
    const target = await projects.target(
      'events',
      ['a', 'b', 'c', 'd', 'e'].map((s) => service(s)),
    );
    const before = lists.length;
    seen.length = 0;
    await compose.up(target);
    const project = await waitFor('five running containers', () => {
      const p = live().current().projects.get(target.project);
      return p?.containers.length === 5 && p.containers.every((c) => c.state === 'running') && p;
    });
    expect(project.containers.map((c) => c.service)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(seen).toContain(target.project);
    // 10 create/start events; coalescing makes that a few lists of just this project. (Other
    // projects on the engine may be busy too: count only ours.)
    const made = lists.slice(before).filter((l) => l.endsWith(`=${target.project}`));
    expect(made.length).toBeGreaterThan(0);
    expect(made.length).toBeLessThan(10);

    // Kill one: exited with 137. Remove it: gone. Down: the project is gone.
    const victim = project.containers[0]?.id ?? '';
    await docker('kill', victim);
    await waitFor('the killed container to show exited 137', () => {
      const c = live()
        .current()
        .projects.get(target.project)
        ?.containers.find((x) => x.id === victim);
      return c?.state === 'exited' && c.exitCode === 137;
    });
    await docker('rm', victim);
    await waitFor('the removed container to vanish', () => {
      const p = live().current().projects.get(target.project);
      return p?.containers.length === 4 && p.containers.every((c) => c.id !== victim);
    });
    seen.length = 0;
    await compose.down(target);
    await waitFor('the project to vanish', () => !live().current().projects.has(target.project));
    expect(seen).toContain(target.project);
  });

  it('health comes from the status text, and healthcheck execs cause no lists', async () => {
    const target = await projects.target('health', [
      service('app', '    healthcheck:\n      test: ["CMD", "true"]\n      interval: 1s\n'),
    ]);
    await compose.up(target);
    const first = await waitFor('the container to run', () => {
      const c = live().current().projects.get(target.project)?.containers[0];
      return c?.state === 'running' && c;
    });
    expect(['starting', 'healthy']).toContain(first.health);
    await waitFor(
      'healthy',
      () => live().current().projects.get(target.project)?.containers[0]?.health === 'healthy',
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const ours = () => lists.filter((l) => l.endsWith(`=${target.project}`)).length;
    const steady = ours();
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(ours()).toBe(steady);
  });

  it('observeProject lists one project fresh', async () => {
    const before = lists.length;
    const project = await live().observeProject(existing);
    expect(project?.containers.map((c) => c.service)).toEqual(['app', 'oneshot']);
    expect(live().current().projects.get(existing)).toBe(project);
    expect(await live().observeProject('stackdt_no_such_project')).toBeUndefined();
    const mine = lists
      .slice(before)
      .filter((l) => l.endsWith(`=${existing}`) || l.includes('no_such_project'));
    expect(mine).toEqual([
      `com.docker.compose.project=${existing}`,
      'com.docker.compose.project=stackdt_no_such_project',
    ]);
  });
});
