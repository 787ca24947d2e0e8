import { PassThrough } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { beforeEach, describe, expect, it } from '@jest/globals';
import type Dockerode from 'dockerode';
import { createInformer } from './informer.js';
import { FakeClock as BaseClock } from '../../pkg/clock/fake.js';

/** The shared fake clock, recording every delay asked for. */
class FakeClock extends BaseClock {
  readonly delays: number[] = [];
  override setTimeout(callback: () => void, ms: number): number {
    this.delays.push(ms);
    return super.setTimeout(callback, ms);
  }
  get pending(): number {
    return this.pendingTimers;
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await tick();
}

function container(project: string, service: string): Dockerode.ContainerInfo {
  return {
    Id: `${project}-${service}`,
    Names: [`/${project}-${service}-1`],
    Image: 'img',
    Created: 1,
    Labels: { 'com.docker.compose.project': project, 'com.docker.compose.service': service },
    State: 'running',
    Status: 'Up 1 second',
  } as unknown as Dockerode.ContainerInfo;
}

/** Just enough of Dockerode: listContainers with a label filter, and an event stream. */
class FakeDocker {
  readonly modem = { socketPath: '/fake/docker.sock' };
  reachable = false;
  containers: Dockerode.ContainerInfo[] = [];
  readonly lists: string[] = [];
  stream: PassThrough | undefined;

  listContainers(options: { filters: { label: string[] } }): Promise<Dockerode.ContainerInfo[]> {
    const label = options.filters.label[0] ?? '';
    this.lists.push(label);
    if (!this.reachable) return Promise.reject(this.#refused());
    const [, project] = label.split('=');
    return Promise.resolve(
      this.containers.filter(
        (c) => project === undefined || c.Labels['com.docker.compose.project'] === project,
      ),
    );
  }

  /** Inspect: restart count 2, started at the epoch + 1 s; a container not listed is a 404. */
  getContainer(id: string): { inspect: () => Promise<unknown> } {
    return {
      inspect: () => {
        if (!this.reachable) return Promise.reject(this.#refused());
        if (!this.containers.some((c) => c.Id === id)) {
          return Promise.reject(Object.assign(new Error('no such container'), { statusCode: 404 }));
        }
        return Promise.resolve({ RestartCount: 2, State: { StartedAt: '1970-01-01T00:00:01Z' } });
      },
    };
  }

  getEvents(): Promise<PassThrough> {
    if (!this.reachable) return Promise.reject(this.#refused());
    this.stream = new PassThrough();
    return Promise.resolve(this.stream);
  }

  emit(project: string, action = 'start', id = ''): void {
    const attributes = { 'com.docker.compose.project': project };
    const event = { Type: 'container', Action: action, Actor: { ID: id, Attributes: attributes } };
    this.stream?.write(`${JSON.stringify(event)}\n`);
  }

  #refused(): Error {
    return Object.assign(new Error('connect ENOENT /fake/docker.sock'), { code: 'ENOENT' });
  }
}

describe('informer engine (fake Docker, fake clock)', () => {
  let docker: FakeDocker;
  let clock: FakeClock;

  beforeEach(() => {
    docker = new FakeDocker();
    clock = new FakeClock();
  });

  function make() {
    return createInformer({
      docker: docker as unknown as Dockerode,
      clock,
      coalesceMs: 50,
      coalesceMaxMs: 500,
      // Distinct from every reconnect delay, so the delays below are the reconnects only.
      requestTimeoutMs: 45_000,
    });
  }

  it('an unreachable engine: not up, clear error, retries with exponential backoff capped at 30 s', async () => {
    const informer = make();
    await informer.start();
    const observation = informer.current();
    expect(observation).toMatchObject({ up: false, stale: true });
    expect(observation.error).toBe(
      'cannot reach Docker engine at unix:///fake/docker.sock: connect ENOENT /fake/docker.sock',
    );
    await clock.advanceAsync(200_000);
    expect(clock.delays.filter((ms) => ms !== 45_000).slice(0, 9)).toEqual([
      1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000,
    ]);
    await informer.stop();
    expect(clock.pending).toBe(0);
  });

  it('reconnects, relists, and notifies projects that appeared and vanished', async () => {
    docker.reachable = true;
    docker.containers = [container('old', 'web')];
    const informer = make();
    const seen: string[] = [];
    informer.onChange((p) => seen.push(p));
    await informer.start();
    expect(informer.current().up).toBe(true);
    expect(seen).toEqual(['old']);

    docker.reachable = false;
    docker.stream?.end();
    await settle();
    const down = informer.current();
    expect(down).toMatchObject({ up: false, stale: true });
    expect(down.error).toBe('lost the Docker engine at unix:///fake/docker.sock: event stream ended');
    expect([...down.projects.keys()]).toEqual(['old']);

    await clock.advanceAsync(1000); // first retry fails
    expect(informer.current().up).toBe(false);
    docker.reachable = true;
    docker.containers = [container('new', 'web')];
    seen.length = 0;
    await clock.advanceAsync(2000);
    expect(informer.current()).toMatchObject({ up: true, stale: false, error: null });
    expect([...informer.current().projects.keys()]).toEqual(['new']);
    expect(seen.sort()).toEqual(['new', 'old']);

    // Backoff was reset: the next loss retries after 1 s again.
    clock.delays.length = 0;
    docker.stream?.destroy(new Error('socket hang up'));
    await settle();
    expect(clock.delays).toEqual([1000]);
    await informer.stop();
  });

  it('coalesces a burst of events into one list of that project, and ignores exec noise', async () => {
    docker.reachable = true;
    const informer = make();
    const seen: string[] = [];
    informer.onChange((p) => seen.push(p));
    await informer.start();
    docker.lists.length = 0;

    docker.containers = ['a', 'b', 'c', 'd', 'e'].map((s) => container('p', s));
    for (const action of ['create', 'start']) for (let i = 0; i < 5; i++) docker.emit('p', action);
    docker.emit('q', 'exec_start: sh');
    await settle();
    expect(docker.lists).toEqual([]);
    await clock.advanceAsync(50);
    expect(docker.lists).toEqual(['com.docker.compose.project=p']);
    expect(seen).toEqual(['p']);
    expect(informer.current().projects.get('p')?.containers).toHaveLength(5);

    docker.containers = [];
    docker.emit('p', 'destroy');
    await clock.advanceAsync(50);
    expect(informer.current().projects.has('p')).toBe(false);
    expect(seen).toEqual(['p', 'p']);
    await informer.stop();
  });

  it('a long burst is listed once quiet, at most coalesceMaxMs after it began', async () => {
    docker.reachable = true;
    const informer = make();
    await informer.start();
    docker.lists.length = 0;
    for (let i = 0; i < 20; i++) {
      docker.emit('p', 'start');
      await settle();
      await clock.advanceAsync(40);
    }
    // 800 ms of events 40 ms apart: one list at 500 ms, one 50 ms after the last event.
    await clock.advanceAsync(50);
    expect(docker.lists).toEqual(['com.docker.compose.project=p', 'com.docker.compose.project=p']);
    await informer.stop();
  });

  it('re-lists with backoff while the list lags behind a die event, then stops', async () => {
    docker.reachable = true;
    const web = container('p', 'web');
    docker.containers = [web];
    const informer = make();
    const seen: string[] = [];
    informer.onChange((p) => seen.push(p));
    await informer.start();
    docker.lists.length = 0;
    seen.length = 0;

    // The engine logs `die` before its list shows the container exited.
    docker.emit('p', 'die', web.Id);
    await clock.advanceAsync(50);
    expect(docker.lists).toHaveLength(1);
    expect(seen).toEqual([]);
    await clock.advanceAsync(100 + 50); // first lag re-list: still running
    expect(docker.lists).toHaveLength(2);
    docker.containers = [{ ...web, State: 'exited', Status: 'Exited (137) 1 second ago' }];
    await clock.advanceAsync(200 + 50);
    expect(docker.lists).toHaveLength(3);
    expect(informer.current().projects.get('p')?.containers[0]).toMatchObject({
      state: 'exited',
      exitCode: 137,
    });
    expect(seen).toEqual(['p']);
    await clock.advanceAsync(10_000); // met: no more lists
    expect(docker.lists).toHaveLength(3);

    // A list that never agrees: five re-lists, then it gives up.
    docker.emit('p', 'start', web.Id);
    await clock.advanceAsync(60_000);
    expect(docker.lists).toHaveLength(3 + 1 + 5);
    await informer.stop();
  });

  it('observeProject lists one project, inspects its containers and updates the cache', async () => {
    docker.reachable = true;
    const informer = make();
    await informer.start();
    docker.containers = [container('x', 'web')];
    const observed = await informer.observeProject('x');
    expect(observed?.containers.map((c) => [c.service, c.restartCount, c.startedAt])).toEqual([
      ['web', 2, 1000],
    ]);
    expect(informer.current().projects.get('x')).toBe(observed);
    expect(await informer.observeProject('nothing')).toBeUndefined();
    docker.reachable = false;
    await expect(informer.observeProject('x')).rejects.toThrow(
      'cannot reach Docker engine at unix:///fake/docker.sock: connect ENOENT /fake/docker.sock',
    );
    await informer.stop();
  });

  it('a listener that throws does not stop the others', async () => {
    docker.reachable = true;
    docker.containers = [container('a', 'web')];
    const informer = make();
    const seen: string[] = [];
    informer.onChange(() => {
      throw new Error('boom');
    });
    const off = informer.onChange((p) => seen.push(p));
    await informer.start();
    expect(seen).toEqual(['a']);
    off();
    docker.emit('a');
    await clock.advanceAsync(50);
    expect(seen).toEqual(['a']);
    await informer.stop();
  });
});
