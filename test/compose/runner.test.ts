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

  /** The message of `config -q` on `yaml`, and the error's stderr tail. */
  async function rejected(name: string, yaml: string): Promise<ComposeError> {
    const dir = await stackDir(yaml);
    const target: ComposeTarget = { project: project(`${name}_${flavour}`), dir, files: ['compose.yaml'] };
    const error = await runner.validate(target).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ComposeError);
    return error as ComposeError;
  }

  it("a rejected file's message is compose's error line, never its boilerplate", async () => {
    // v2 ends with "You may need to escape any $ with another $." and the value; v1 quotes it.
    const e = await rejected('interp', `services:\n  web:\n    image: "${IMAGE_V1}\${TAG"\n`);
    expect(e.message).toMatch(
      flavour === 'v2'
        ? /config failed \(exit \d+\): invalid interpolation format for services\.web\.image\.$/
        : /config failed \(exit \d+\): Invalid interpolation format for "image" option in service "web"/,
    );
    expect(e.message).not.toMatch(/You may need to escape/);
    expect(e.stderrTail).toMatch(/interpolation format/i);
  });

  it(
    flavour === 'v1'
      ? 'a v2-only key says compose v1 does not support it, and how to get v2'
      : 'takes v2-only keys',
    async () => {
      const include = `include:\n  - other.yaml\nservices:\n  web:\n    image: ${IMAGE_V1}\n`;
      const develop = `services:\n  web:\n    image: ${IMAGE_V1}\n    develop:\n      watch:\n        - action: sync\n          path: .\n          target: /app\n`;
      if (flavour === 'v2') {
        const dir = await stackDir(develop);
        await runner.validate({ project: project('develop_v2'), dir, files: ['compose.yaml'] });
        return;
      }
      const e = await rejected('include', include);
      expect(e.message).toMatch(
        /^docker-compose config failed \(exit 1\): compose v1 does not support `include` \(a top-level compose v2 key\): install compose v2 system-wide .*STACKD_COMPOSE_COMMAND.* \(compose said: 'include' does not match any of the regexes: '\^x-'\)$/,
      );
      // The boilerplate v1 prints after it is in the tail, never in the message.
      expect(e.stderrTail).toContain('For more on the Compose file format versions');
      expect(e.message).not.toMatch(/For more on|You might be seeing/);
      const d = await rejected('develop', develop);
      expect(d.message).toMatch(/compose v1 does not support `develop` \(a compose v2 key\)/);
      const r = await rejected('reset', `services:\n  web:\n    image: ${IMAGE_V1}\n    ports: !reset []\n`);
      expect(r.message).toMatch(/compose v1 does not support `!reset` \(a compose v2 YAML tag\)/);
    },
  );
});

describe('compose command selection', () => {
  it('auto picks compose v2 when `docker compose` works', async () => {
    expect(await createComposeRunner({ command: 'auto' }).describe()).toMatch(/^docker compose 2\./);
    expect(await createComposeRunner().describe()).toMatch(/^docker compose 2\./);
  });

  it('auto falling back to v1 because no plugin is visible warns, naming the directories and what v1 rejects', async () => {
    const config = await makeTempDir('stackd-docker-config-');
    dirs.push(config);
    const warnings: { message: string; meta: Record<string, unknown> | undefined }[] = [];
    const runner = createComposeRunner({
      command: 'auto',
      // The service user's view: no plugin in its DOCKER_CONFIG, none system-wide.
      pin: { env: { DOCKER_CONFIG: config }, systemPluginDirs: ['/nonexistent/cli-plugins'] },
      logger: {
        debug: () => undefined,
        warn: (message, meta) => warnings.push({ message, meta }),
      },
    });
    expect(await runner.describe()).toMatch(/^docker-compose 1\./);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.meta).toMatchObject({
      event: 'compose.detected',
      compose: expect.stringMatching(/^docker-compose 1\./),
    });
    expect(warnings[0]?.message).toContain(
      `no docker compose plugin (\`docker-compose\`) in ${config}/cli-plugins, /nonexistent/cli-plugins`,
    );
    expect(warnings[0]?.message).toMatch(
      /v1 rejects files that use top-level `name:` and `include:`, `develop:`/,
    );
    expect(warnings[0]?.message).toMatch(/docker-compose-plugin.*STACKD_COMPOSE_COMMAND/);
    // Once: the command is remembered.
    await runner.describe();
    expect(warnings).toHaveLength(1);
  });

  it('auto finding v2 does not warn', async () => {
    const warnings: string[] = [];
    const runner = createComposeRunner({
      logger: { debug: () => undefined, warn: (message) => warnings.push(message) },
    });
    expect(await runner.describe()).toMatch(/^docker compose 2\./);
    expect(warnings).toEqual([]);
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
    expect((error as Error).message).toMatch(
      /^no compose command found \(`docker compose`: no `docker` on PATH \(.*\); `docker-compose`: no `docker-compose` on PATH \(.*\)\): install compose v2 system-wide \(Docker's `docker-compose-plugin`, Ubuntu's `docker-compose-v2` or Debian 13's `docker-compose` package\) or set `compose.command` \(STACKD_COMPOSE_COMMAND\)$/,
    );
  });

  it('a configured `docker compose` without a plugin names the directories searched', async () => {
    const config = await makeTempDir('stackd-docker-config-');
    dirs.push(config);
    const runner = createComposeRunner({
      command: 'docker compose',
      pin: { env: { DOCKER_CONFIG: config }, systemPluginDirs: ['/nonexistent/cli-plugins'] },
    });
    await expect(runner.describe()).rejects.toThrow(
      `no docker compose plugin (\`docker-compose\`) in ${config}/cli-plugins, /nonexistent/cli-plugins; install compose v2 system-wide`,
    );
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
