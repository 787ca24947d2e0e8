/**
 * Issue 12, item 3 — builds, on the real engine: a service with `build:` whose context changed is
 * built before `up` and runs a new image while the other services keep their containers; a commit
 * that changes only another service builds nothing; a broken Dockerfile fails the stack with the
 * build output's tail. Compose v2, and the same with compose v1 (`docker-compose build`).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type Dockerode from 'dockerode';
import { RUN_ID, docker, engine } from '../helpers/docker.js';
import { Harness, stackOf } from '../helpers/stackd.js';

const COMPOSE = (plainEnv: string, appExtra = ''): string => `services:
  app:
    build: ./app${appExtra}
    command: ["sleep", "3600"]
    stop_grace_period: 1s
  plain:
    image: stackd-test/busybox:1
    command: ["sleep", "3600"]
    stop_grace_period: 1s
    environment:
      MODE: ${plainEnv}
`;
const DOCKERFILE = 'FROM stackd-test/busybox:1\nCOPY msg.txt /msg.txt\n';

type Lines = Record<string, unknown>[];

function logLines(stderr: string): Lines {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

for (const [name, command] of [
  ['compose v2', 'docker compose'],
  ['compose v1', 'docker-compose'],
] as const) {
  describe(`builds with ${name}`, () => {
    let h: Harness;
    /** Every image id the app service ran: removed at the end (the tags go with the last one). */
    const images = new Set<string>();

    beforeAll(async () => {
      h = await Harness.create(command === 'docker compose' ? 'buildv2' : 'buildv1');
      h.env['STACKD_COMPOSE_COMMAND'] = command;
      h.env['STACKD_LOG_LEVEL'] = 'info';
    });

    afterAll(async () => {
      await h.cleanup();
      const tag = `${h.project('bld')}${command === 'docker compose' ? '-' : '_'}app`;
      for (const image of [...images, tag]) await docker('rmi', '-f', image).catch(() => '');
    });

    const byService = async (): Promise<Record<string, Dockerode.ContainerInfo>> => {
      const out: Record<string, Dockerode.ContainerInfo> = {};
      for (const c of await h.containers('bld')) out[c.Labels['com.docker.compose.service'] ?? '?'] = c;
      for (const c of Object.values(out))
        if (c.Labels['com.docker.compose.service'] === 'app') images.add(c.ImageID);
      return out;
    };
    const message = async (service: string): Promise<string> => {
      const c = (await byService())[service];
      if (c === undefined) throw new Error(`no ${service} container`);
      const exec = await engine.getContainer(c.Id).exec({ Cmd: ['cat', '/msg.txt'], AttachStdout: true });
      const stream = await exec.start({});
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      // The multiplexed stream: an 8-byte header per frame.
      return Buffer.concat(chunks).subarray(8).toString('utf8').trim();
    };
    const builds = (lines: Lines): Lines => lines.filter((l) => l['event'] === 'reconcile.build');

    it('R1: the stack is built and deployed', async () => {
      await h.commit({
        'bld/compose.yaml': COMPOSE('one'),
        'bld/app/Dockerfile': DOCKERFILE,
        'bld/app/msg.txt': `first ${RUN_ID}\n`,
      });
      const { exitCode, response, stderr } = await h.sync();
      expect(stackOf(response, h.id('bld'))).toMatchObject({ status: 'synced', message: '' });
      expect(exitCode).toBe(0);
      expect(builds(logLines(stderr))).toEqual([
        expect.objectContaining({ stack: h.id('bld'), services: ['app'], result: 'success' }),
      ]);
      expect(await message('app')).toBe(`first ${RUN_ID}`);
    });

    it('R2: a change in the build context runs a new image; the other service keeps its container', async () => {
      const before = await byService();
      await h.commit({ 'bld/app/msg.txt': `second ${RUN_ID}\n` });
      const { response, stderr } = await h.sync();
      expect(stackOf(response, h.id('bld'))).toMatchObject({ status: 'synced', message: '' });
      const after = await byService();
      expect(after['app']?.ImageID).not.toBe(before['app']?.ImageID);
      expect(after['app']?.Id).not.toBe(before['app']?.Id);
      expect(after['plain']?.Id).toBe(before['plain']?.Id);
      expect(await message('app')).toBe(`second ${RUN_ID}`);
      const [build] = builds(logLines(stderr));
      expect(build).toMatchObject({ services: ['app'], result: 'success', durationMs: expect.any(Number) });
    });

    it('R3: a change of the plain service only builds nothing; the app keeps its image and container', async () => {
      const before = await byService();
      await h.commit({ 'bld/compose.yaml': COMPOSE('two') });
      const { response, stderr } = await h.sync();
      expect(stackOf(response, h.id('bld'))).toMatchObject({ status: 'synced', message: '' });
      const after = await byService();
      expect(after['plain']?.Id).not.toBe(before['plain']?.Id);
      expect(after['app']?.Id).toBe(before['app']?.Id);
      expect(after['app']?.ImageID).toBe(before['app']?.ImageID);
      expect(builds(logLines(stderr))).toEqual([]);
    });

    it('R4: a broken Dockerfile fails the stack with the build output’s tail; the running app is left alone', async () => {
      const before = await byService();
      await h.commit({
        'bld/app/Dockerfile': `FROM stackd-test/busybox:1\nRUN echo "marker-${RUN_ID}" && exit 3\n`,
      });
      const { exitCode, response, stderr } = await h.sync();
      expect(exitCode).toBe(1);
      const stack = stackOf(response, h.id('bld'));
      expect(stack.status).toBe('failed');
      expect(stack.message).toMatch(
        new RegExp(`^building app failed: ${command} build failed \\(exit \\d+\\): `),
      );
      expect(stack.message).toContain(`last build output: `);
      expect(stack.message).toContain(`marker-${RUN_ID}`);
      const lines = logLines(stderr);
      expect(builds(lines)).toEqual([expect.objectContaining({ services: ['app'], result: 'failure' })]);
      expect(lines.find((l) => l['event'] === 'reconcile.failure')).toMatchObject({
        cause: 'build_failed',
        retry: false,
        stderr: expect.stringContaining(`marker-${RUN_ID}`),
      });
      const after = await byService();
      expect(after['app']?.Id).toBe(before['app']?.Id);
      expect(after['app']?.State).toBe('running');
      expect(after['plain']?.Id).toBe(before['plain']?.Id);

      // One attempt per commit: the next pass does not build it again.
      const again = await h.sync();
      expect(stackOf(again.response, h.id('bld')).status).toBe('failed');
      expect(builds(logLines(again.stderr))).toEqual([]);
    });

    it('R5: an unchanged pull_policy: build service keeps its image and container (up rebuilds it from the cache)', async () => {
      await h.commit({
        'bld/compose.yaml': COMPOSE('three', '\n    pull_policy: build'),
        'bld/app/Dockerfile': DOCKERFILE,
      });
      const fixed = await h.sync();
      expect(stackOf(fixed.response, h.id('bld'))).toMatchObject({ status: 'synced', message: '' });
      // The Dockerfile is back to R3's and `pull_policy` is not in the hash (nor in compose's):
      // app's running container is what this commit asks for, so nothing is built or recreated.
      expect(builds(logLines(fixed.stderr))).toEqual([]);
      const before = await byService();
      await h.commit({ 'bld/compose.yaml': COMPOSE('four', '\n    pull_policy: build') });
      const { response, stderr } = await h.sync();
      expect(stackOf(response, h.id('bld'))).toMatchObject({ status: 'synced', message: '' });
      expect(builds(logLines(stderr))).toEqual([]);
      const after = await byService();
      expect(after['plain']?.Id).not.toBe(before['plain']?.Id);
      expect(after['app']?.Id).toBe(before['app']?.Id);
      expect(after['app']?.ImageID).toBe(before['app']?.ImageID);
      expect(await message('app')).toBe(`second ${RUN_ID}`);
    });
  });
}
