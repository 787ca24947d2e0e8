import { join } from 'node:path';
import { afterAll, describe, expect, it, jest } from '@jest/globals';
import Dockerode from 'dockerode';
import { createInformer, type Informer, type InformerOptions } from '../../internal/informer/index.js';
import {
  cleanupProjects,
  makeTempDir,
  removeDir,
  startSocketProxy,
  waitFor,
  type SocketProxy,
} from '../helpers/docker.js';
import { Projects, compose, countLists, liveHandles, service } from './fixtures.js';

jest.setTimeout(60_000);

const projects = new Projects();
let proxy: SocketProxy | undefined;
const informers: Informer[] = [];

/** Every informer made here, stopped in afterAll even when a test fails half-way. */
function make(options: InformerOptions): Informer {
  const informer = createInformer(options);
  informers.push(informer);
  return informer;
}

afterAll(async () => {
  await Promise.all(informers.map((i) => i.stop()));
  await proxy?.close();
  await cleanupProjects(projects.names);
  await Promise.all(projects.dirs.map(removeDir));
});

describe('informer lifecycle', () => {
  it('stop() ends the event stream and leaves no handles behind', async () => {
    const before = liveHandles();
    const informer = make({ docker: new Dockerode() });
    await informer.start();
    expect(informer.current().up).toBe(true);
    await informer.stop();
    expect(informer.current()).toMatchObject({ up: false, stale: true, error: 'informer stopped' });
    await waitFor('handles to close', () => JSON.stringify(liveHandles()) === JSON.stringify(before), 5_000);
  });
});

describe('informer when the engine is unreachable', () => {
  it('a dead endpoint: not up, clear error, keeps retrying, no crash, stops cleanly', async () => {
    const before = liveHandles();
    const client = new Dockerode({ socketPath: '/nonexistent/stackd/docker.sock' });
    const lists = countLists(client);
    const informer = make({ docker: client, reconnect: { baseMs: 20, maxMs: 80 } });
    await informer.start();
    const observation = informer.current();
    expect(observation).toMatchObject({ up: false, stale: true });
    expect(observation.projects.size).toBe(0);
    expect(observation.error).toBe(
      'cannot reach Docker engine at unix:///nonexistent/stackd/docker.sock: connect ENOENT /nonexistent/stackd/docker.sock',
    );
    // Each attempt opens the event stream first; the list is never reached. Count via the stream.
    const attempts = jest.spyOn(client, 'getEvents');
    await waitFor('three more attempts', () => attempts.mock.calls.length >= 3, 5_000);
    expect(lists).toEqual([]);
    await informer.stop();
    const after = attempts.mock.calls.length;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(attempts.mock.calls.length).toBe(after);
    await waitFor('handles to close', () => JSON.stringify(liveHandles()) === JSON.stringify(before), 5_000);
  });

  it('losing the engine keeps the last projects stale; it relists and notifies on reconnect', async () => {
    const dir = await makeTempDir('stackd-proxy-');
    projects.dirs.push(dir);
    proxy = await startSocketProxy(join(dir, 'docker.sock'));
    const informer = make({
      docker: new Dockerode({ socketPath: proxy.path }),
      reconnect: { baseMs: 50, maxMs: 200 },
    });
    const seen: string[] = [];
    informer.onChange((p) => seen.push(p));

    const kept = await projects.target('kept', [service('app')]);
    await compose.up(kept);
    await informer.start();
    expect(informer.current().up).toBe(true);
    expect(informer.current().projects.has(kept.project)).toBe(true);

    await proxy.pause();
    await waitFor('the informer to notice', () => !informer.current().up);
    const down = informer.current();
    expect(down.stale).toBe(true);
    expect(down.projects.has(kept.project)).toBe(true);
    expect(down.error).toMatch(new RegExp(`^lost the Docker engine at unix://${proxy.path}: `));

    // While it is away: one project goes, one comes (straight on the real engine).
    const appeared = await projects.target('appeared', [service('app')]);
    await compose.up(appeared);
    await compose.down(kept);
    seen.length = 0;
    await new Promise((resolve) => setTimeout(resolve, 300)); // a few failed attempts
    expect(informer.current().up).toBe(false);

    await proxy.resume();
    await waitFor('the informer to reconnect', () => informer.current().up, 10_000);
    const back = informer.current();
    expect(back).toMatchObject({ stale: false, error: null });
    expect(back.projects.has(appeared.project)).toBe(true);
    expect(back.projects.has(kept.project)).toBe(false);
    expect(seen).toEqual(expect.arrayContaining([appeared.project, kept.project]));

    // And it follows events again.
    seen.length = 0;
    await compose.down(appeared);
    await waitFor('the downed project to vanish', () => !informer.current().projects.has(appeared.project));
    expect(seen).toContain(appeared.project);
    await informer.stop();
  });
});
