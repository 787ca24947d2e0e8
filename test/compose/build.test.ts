/**
 * The runner's `build` against the real engine and compose (v2 and v1): only the named services
 * are built; a failure carries the build output's tail; with BuildKit asked for and no buildx
 * plugin installed, the build falls back to the classic builder (DOCKER_BUILDKIT=0) unless the
 * operator set DOCKER_BUILDKIT.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it, jest } from '@jest/globals';
import { ComposeError, createComposeRunner, type ComposeTarget } from '../../internal/compose/index.js';
import type { LogMeta } from '../../internal/log/index.js';
import {
  IMAGE_V1,
  RUN_ID,
  docker,
  makeTempDir,
  removeDir,
  uniqueProject,
  writeCompose,
} from '../helpers/docker.js';

jest.setTimeout(120_000);

const dirs: string[] = [];
const images = new Set<string>();

afterAll(async () => {
  for (const image of images) await docker('rmi', '-f', image).catch(() => '');
  await Promise.all(dirs.map(removeDir));
});

const COMPOSE = `services:
  a:
    build: ./a
  b:
    build: ./b
`;

/** A stack of two build services; `a`'s Dockerfile is `dockerfile`. */
async function stack(flavour: string, dockerfile: string): Promise<ComposeTarget> {
  const dir = await makeTempDir('stackd-build-');
  dirs.push(dir);
  await writeCompose(dir, COMPOSE);
  for (const service of ['a', 'b']) {
    await mkdir(join(dir, service));
    await writeFile(join(dir, service, 'msg.txt'), `${service} ${RUN_ID}\n`);
    await writeFile(
      join(dir, service, 'Dockerfile'),
      service === 'a' ? dockerfile : `FROM ${IMAGE_V1}\nCOPY msg.txt /msg.txt\n`,
    );
  }
  const project = uniqueProject(`build_${flavour}`);
  const sep = flavour === 'v2' ? '-' : '_';
  images.add(`${project}${sep}a`);
  images.add(`${project}${sep}b`);
  return { project, dir, files: ['compose.yaml'] };
}

const exists = (image: string): Promise<boolean> =>
  docker('image', 'inspect', image).then(
    () => true,
    () => false,
  );

describe.each([
  { flavour: 'v2', command: 'docker compose', sep: '-' },
  { flavour: 'v1', command: 'docker-compose', sep: '_' },
])('compose $flavour build', ({ flavour, command, sep }) => {
  const runner = createComposeRunner({ command });

  it('builds only the services named', async () => {
    const target = await stack(flavour, `FROM ${IMAGE_V1}\nCOPY msg.txt /msg.txt\n`);
    const result = await runner.build(target, ['a'], { timeoutMs: 120_000 });
    expect(result.builder).toBe('default');
    expect(result.durationMs).toBeGreaterThan(0);
    expect(await exists(`${target.project}${sep}a`)).toBe(true);
    expect(await exists(`${target.project}${sep}b`)).toBe(false);
    // Nothing named: nothing run.
    expect(await runner.build(target, [])).toEqual({ durationMs: 0, output: '', builder: 'default' });
  });

  it('a failed build is a ComposeError with the reason and the output’s last lines', async () => {
    const target = await stack(flavour, `FROM ${IMAGE_V1}\nRUN echo "out-${RUN_ID}" && exit 3\n`);
    const error = await runner.build(target, ['a']).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ComposeError);
    const e = error as ComposeError;
    expect(e.kind).toBe('exited');
    expect(e.message).toMatch(
      flavour === 'v2'
        ? /^docker compose build failed \(exit \d+\): failed to solve: .*exit code: 3$/
        : /^docker-compose build failed \(exit 1\): The command '.*' returned a non-zero code: 3$/,
    );
    expect(e.outputTail).toContain(`out-${RUN_ID}`);
    expect(e.outputTail).not.toMatch(/DEPRECATED|Building a$/);
    expect(e.stderrTail).toContain(`out-${RUN_ID}`);
  });
});

describe('no buildx plugin, BuildKit asked for (compose v1 builds through the docker CLI)', () => {
  /** A docker CLI config that makes BuildKit the builder (`builder` aliased to buildx). */
  async function buildkitConfig(): Promise<string> {
    const dir = await makeTempDir('stackd-dockercfg-');
    dirs.push(dir);
    await writeFile(join(dir, 'config.json'), JSON.stringify({ aliases: { builder: 'buildx' } }));
    return dir;
  }

  it('falls back to the classic builder once, says so, and keeps it for later builds', async () => {
    const warnings: LogMeta[] = [];
    const runner = createComposeRunner({
      command: 'docker-compose',
      env: { DOCKER_CONFIG: await buildkitConfig() },
      logger: { debug: () => undefined, warn: (_m, meta) => warnings.push(meta) },
    });
    const target = await stack('v1', `FROM ${IMAGE_V1}\nCOPY msg.txt /msg.txt\n`);
    const first = await runner.build(target, ['a']);
    expect(first.builder).toBe('classic');
    expect(await exists(`${target.project}_a`)).toBe(true);
    const second = await runner.build(target, ['b']);
    expect(second.builder).toBe('classic');
    expect(warnings.filter((w) => w.event === 'compose.detected' && w['builder'] === 'classic')).toHaveLength(
      1,
    );
  });

  it('leaves DOCKER_BUILDKIT set by the operator alone: the build fails, saying why', async () => {
    const runner = createComposeRunner({
      command: 'docker-compose',
      env: { DOCKER_CONFIG: await buildkitConfig(), DOCKER_BUILDKIT: '1' },
    });
    const target = await stack('v1', `FROM ${IMAGE_V1}\nCOPY msg.txt /msg.txt\n`);
    const error = await runner.build(target, ['a']).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ComposeError);
    expect((error as ComposeError).message).toContain(
      'BuildKit is enabled but the buildx component is missing',
    );
  });
});

describe('compose v1: a failed classic build leaves no container behind', () => {
  it('builds with --force-rm', async () => {
    const runner = createComposeRunner({ command: 'docker-compose' });
    const marker = `leftover-${RUN_ID}`;
    const target = await stack('v1', `FROM ${IMAGE_V1}\nRUN echo "${marker}" && exit 3\n`);
    await expect(runner.build(target, ['a'])).rejects.toBeInstanceOf(ComposeError);
    const left = await docker('ps', '-a', '--no-trunc', '--format', '{{.Command}}');
    expect(left).not.toContain(marker);
  });
});
