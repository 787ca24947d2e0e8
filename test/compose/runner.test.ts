import { chmod, readFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import {
  ComposeError,
  ComposeUnavailableError,
  createComposeRunner,
  writeOverride,
  type ComposeTarget,
} from '../../internal/compose/index.js';
import { LABEL_MANAGED_BY, LABEL_SERVICE_HASH, LABEL_STACK } from '../../internal/labels/index.js';
import {
  IMAGE_V1,
  cleanupProjects,
  containersOf,
  engine,
  isAlive,
  makeTempDir,
  removeDir,
  uniqueProject,
  waitFor,
  writeCompose,
} from '../helpers/docker.js';

// Real compose runs: a cold v1 start takes a few seconds.
jest.setTimeout(120_000);

const projects = new Set<string>();
const dirs: string[] = [];

async function stackDir(yaml: string): Promise<string> {
  const dir = await makeTempDir('stackd-compose-');
  dirs.push(dir);
  await writeCompose(dir, yaml);
  return dir;
}

function project(name: string): string {
  const p = uniqueProject(name);
  projects.add(p);
  return p;
}

afterAll(async () => {
  await cleanupProjects(projects);
  await Promise.all(dirs.map(removeDir));
});

const SMALL = `services:
  app:
    image: ${IMAGE_V1}
    stop_signal: SIGKILL
  worker:
    image: ${IMAGE_V1}
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
`;

describe.each([
  { flavour: 'v2', command: 'docker compose' },
  { flavour: 'v1', command: 'docker-compose' },
])('compose $flavour ($command)', ({ flavour, command }) => {
  const runner = createComposeRunner({ command });

  it('describes itself', async () => {
    const description = await runner.describe();
    expect(description).toMatch(flavour === 'v2' ? /^docker compose 2\./ : /^docker-compose 1\./);
  });

  it('validates, brings a project up with the override labels, and down again', async () => {
    const dir = await stackDir(SMALL);
    const target: ComposeTarget = {
      project: project(`updown_${flavour}`),
      dir,
      files: ['compose.yaml', '.stackd/override.yaml'],
    };
    await writeOverride(join(dir, '.stackd/override.yaml'), {
      app: {
        [LABEL_MANAGED_BY]: 'test-instance',
        [LABEL_STACK]: 'apps/web',
        [LABEL_SERVICE_HASH]: 'sha256:aa$x',
      },
      worker: { [LABEL_MANAGED_BY]: 'test-instance', [LABEL_STACK]: 'apps/web' },
    });

    await runner.validate(target);
    await runner.up(target, { timeoutMs: 120_000 });

    const containers = await containersOf(target.project);
    expect(containers.map((c) => c.Labels['com.docker.compose.service']).sort()).toEqual(['app', 'worker']);
    for (const c of containers) {
      expect(c.State).toBe('running');
      expect(c.Labels[LABEL_MANAGED_BY]).toBe('test-instance');
      expect(c.Labels[LABEL_STACK]).toBe('apps/web');
    }
    const app = containers.find((c) => c.Labels['com.docker.compose.service'] === 'app');
    expect(app?.Labels[LABEL_SERVICE_HASH]).toBe('sha256:aa$x');

    // A second up with unchanged files changes nothing.
    await runner.up(target);
    expect((await containersOf(target.project)).map((c) => c.Id).sort()).toEqual(
      containers.map((c) => c.Id).sort(),
    );

    await runner.down(target);
    expect(await containersOf(target.project)).toEqual([]);
    const networks = await engine.listNetworks({
      filters: { label: [`com.docker.compose.project=${target.project}`] },
    });
    expect(networks).toEqual([]);
  });

  it('rejects an invalid compose file with a ComposeError naming the problem', async () => {
    const dir = await stackDir(`services:\n  web:\n    image: ${IMAGE_V1}\n    imagee: typo\n`);
    const target: ComposeTarget = { project: project(`invalid_${flavour}`), dir, files: ['compose.yaml'] };
    const error = await runner.validate(target).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ComposeError);
    const e = error as ComposeError;
    expect(e.name).toBe('ComposeError');
    expect(e.exitCode).not.toBeNull();
    expect(e.exitCode).not.toBe(0);
    expect(e.timedOut).toBe(false);
    expect(e.stderrTail).toContain('imagee');
    expect(e.command).toContain(' config -q');
    expect(e.message).toMatch(new RegExp(`^${command} config failed \\(exit \\d+\\): .*imagee`));
    expect(e.cause).toBeInstanceOf(Error);
  });
});

describe('compose command selection', () => {
  it('auto picks compose v2 when `docker compose` works', async () => {
    expect(await createComposeRunner({ command: 'auto' }).describe()).toMatch(/^docker compose 2\./);
    expect(await createComposeRunner().describe()).toMatch(/^docker compose 2\./);
  });

  it('auto falls back to docker-compose when docker is not on PATH', async () => {
    const bin = await makeTempDir('stackd-bin-');
    dirs.push(bin);
    await symlink('/usr/bin/docker-compose', join(bin, 'docker-compose'));
    const runner = createComposeRunner({ command: 'auto', env: { PATH: bin } });
    expect(await runner.describe()).toMatch(/^docker-compose 1\./);
  });

  it('a missing binary is a ComposeUnavailableError', async () => {
    const dir = await stackDir(SMALL);
    const target: ComposeTarget = { project: project('missing'), dir, files: ['compose.yaml'] };
    const runner = createComposeRunner({ command: '/nonexistent/bin/docker-compose' });
    await expect(runner.up(target)).rejects.toThrow(ComposeUnavailableError);
    await expect(runner.up(target)).rejects.toThrow(
      /`\/nonexistent\/bin\/docker-compose` cannot be run: not found/,
    );
    await expect(runner.describe()).rejects.toThrow(ComposeUnavailableError);
  });

  it('auto with no compose anywhere is a ComposeUnavailableError naming both candidates', async () => {
    const empty = await makeTempDir('stackd-bin-');
    dirs.push(empty);
    const runner = createComposeRunner({ env: { PATH: empty } });
    const error = await runner.describe().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ComposeUnavailableError);
    expect((error as Error).message).toMatch(/docker compose.*docker-compose/);
  });
});

describe('timeouts and aborts kill the whole process group', () => {
  let bin: string;
  let script: string;

  beforeAll(async () => {
    bin = await makeTempDir('stackd-fake-compose-');
    dirs.push(bin);
    script = join(bin, 'fake-compose');
    // A compose stand-in that, like the v2 plugin, has a child of its own, then hangs.
    await writeCompose(
      bin,
      [
        '#!/bin/sh',
        'sleep 300 &',
        'echo "$$ $!" > "$PIDFILE"',
        'echo "Container x  Starting" >&2',
        'sleep 300',
        '',
      ].join('\n'),
      'fake-compose',
    );
    await chmod(script, 0o755);
  });

  async function hang(options: {
    timeoutMs?: number;
    signal?: AbortSignal;
  }): Promise<{ error: unknown; pids: number[] }> {
    const pidFile = join(bin, `pids-${String(Math.random()).slice(2)}`);
    const runner = createComposeRunner({ command: script, env: { PIDFILE: pidFile } });
    const error = await runner
      .up({ project: 'never', dir: bin, files: [] }, options)
      .catch((e: unknown) => e);
    const pids = (await readFile(pidFile, 'utf8')).trim().split(' ').map(Number);
    return { error, pids };
  }

  it('a hanging command is killed with its children at the timeout', async () => {
    const started = Date.now();
    const { error, pids } = await hang({ timeoutMs: 500 });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(error).toBeInstanceOf(ComposeError);
    const e = error as ComposeError;
    expect(e.timedOut).toBe(true);
    expect(e.exitCode).toBeNull();
    expect(e.message).toBe(`${script} up timed out after 500 ms`);
    expect(e.stderrTail).toContain('Container x  Starting');
    expect(pids).toHaveLength(2);
    for (const pid of pids) await waitFor(`pid ${pid} to die`, async () => !(await isAlive(pid)), 5_000);
  });

  it('an abort kills the group too', async () => {
    const controller = new AbortController();
    setTimeout(() => {
      controller.abort();
    }, 300);
    const { error, pids } = await hang({ signal: controller.signal });
    expect(error).toBeInstanceOf(ComposeError);
    expect((error as ComposeError).aborted).toBe(true);
    expect((error as ComposeError).timedOut).toBe(false);
    for (const pid of pids) await waitFor(`pid ${pid} to die`, async () => !(await isAlive(pid)), 5_000);
  });
});
