import { describe, expect, it } from '@jest/globals';
import type Dockerode from 'dockerode';
import { groupByProject } from './container.js';
import { parseEvent } from './events.js';

function info(id: string, labels: Record<string, string>, extra: Partial<Dockerode.ContainerInfo> = {}) {
  return {
    Id: id,
    Names: [`/${id}`],
    Image: 'img:1',
    Created: 1700000000,
    Labels: labels,
    State: 'running',
    Status: 'Up 3 seconds (healthy)',
    ...extra,
  } as unknown as Dockerode.ContainerInfo;
}

describe('groupByProject', () => {
  it('groups by project, drops one-off containers, sorts, parses status', () => {
    const projects = groupByProject([
      info('b-web-1', { 'com.docker.compose.project': 'b', 'com.docker.compose.service': 'web' }),
      info('a-web-1', { 'com.docker.compose.project': 'a', 'com.docker.compose.service': 'web' }),
      info(
        'a-db-1',
        { 'com.docker.compose.project': 'a', 'com.docker.compose.service': 'db' },
        {
          State: 'exited',
          Status: 'Exited (3) 1 second ago',
          Names: ['/other/db', '/a-db-1'],
        },
      ),
      info('a-run', {
        'com.docker.compose.project': 'a',
        'com.docker.compose.service': 'web',
        'com.docker.compose.oneoff': 'True',
      }),
    ]);
    expect([...projects.keys()]).toEqual(['a', 'b']);
    const a = projects.get('a');
    expect(a?.containers.map((c) => c.name)).toEqual(['a-db-1', 'a-web-1']);
    expect(a?.containers[0]).toMatchObject({ service: 'db', state: 'exited', exitCode: 3, health: null });
    expect(a?.containers[1]).toMatchObject({
      service: 'web',
      state: 'running',
      exitCode: null,
      health: 'healthy',
    });
  });
});

describe('parseEvent', () => {
  const event = (action: string, attributes: Record<string, string>) =>
    JSON.stringify({ Type: 'container', Action: action, Actor: { ID: 'x', Attributes: attributes } });
  const projectOfEvent = (line: string) => parseEvent(line)?.project;

  it('names the compose project, container and action of container events', () => {
    expect(parseEvent(event('die', { 'com.docker.compose.project': 'p' }))).toEqual({
      project: 'p',
      id: 'x',
      action: 'die',
    });
    expect(projectOfEvent(event('start', { 'com.docker.compose.project': 'p' }))).toBe('p');
    expect(projectOfEvent(event('health_status: healthy', { 'com.docker.compose.project': 'p' }))).toBe('p');
  });

  it('ignores exec noise, one-off containers, other types and garbage', () => {
    expect(projectOfEvent(event('exec_start: true ', { 'com.docker.compose.project': 'p' }))).toBeUndefined();
    expect(
      projectOfEvent(
        event('start', { 'com.docker.compose.project': 'p', 'com.docker.compose.oneoff': 'True' }),
      ),
    ).toBeUndefined();
    expect(projectOfEvent(event('start', { name: 'plain' }))).toBeUndefined();
    expect(projectOfEvent(JSON.stringify({ Type: 'network', Action: 'connect' }))).toBeUndefined();
    expect(projectOfEvent('{not json')).toBeUndefined();
  });
});
