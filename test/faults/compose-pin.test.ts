/**
 * Fault: executables planted where an old stackd would have run them. Under the 0.1 unit, HOME
 * was the state directory, so a plugin written to `~/.docker/cli-plugins/docker-compose` (by a
 * crafted tree, or a container with a mount of it) ran on every compose call. Here HOME is the
 * data directory again, a plugin is planted there, another one in stackd's own DOCKER_CONFIG, and
 * a `docker` in a PATH entry inside the data directory. Each writes a marker if it ever runs:
 * none does; the stack is applied with the compose the host installed, and each is named in a
 * `compose.ignored` warning.
 */
import { chmod, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Harness, composeFile, stackOf } from '../helpers/stackd.js';

async function plant(path: string, marker: string): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, `#!/bin/sh\necho "$0 $*" >> ${JSON.stringify(marker)}\nexit 0\n`);
  await chmod(path, 0o755);
}

describe('fault: executables planted under the data directory', () => {
  let h: Harness;
  let markers: string;

  beforeAll(async () => {
    h = await Harness.create('composepin');
    markers = join(h.root, 'markers');
    await mkdir(markers);
    await plant(join(h.dataDir, '.docker/cli-plugins/docker-compose'), join(markers, 'home-plugin'));
    await plant(join(h.dataDir, 'docker/cli-plugins/docker-compose'), join(markers, 'config-plugin'));
    await plant(join(h.dataDir, 'bin/docker'), join(markers, 'path-docker'));
    await plant(join(h.dataDir, 'bin/docker-compose'), join(markers, 'path-compose'));
  });

  afterAll(async () => {
    await h.cleanup();
  });

  it.each([
    ['auto', 'auto'],
    ['docker compose', 'docker compose'],
  ])(
    'compose.command %s: nothing planted runs, the stack is applied with the installed compose',
    async (_, command) => {
      // A change, so that compose runs (config, up), not just a check of an in-sync stack.
      await h.commit({
        'web/compose.yaml': composeFile({ web: { extra: `labels: { case: "${command}" }` } }),
      });
      const { exitCode, response, stderr } = await h.sync({
        HOME: h.dataDir,
        PATH: `${join(h.dataDir, 'bin')}:${process.env['PATH'] ?? ''}`,
        STACKD_COMPOSE_COMMAND: command,
      });
      expect([exitCode, stderr]).toEqual([0, expect.any(String)]);
      expect(stackOf(response, h.id('web')).status).toBe('synced');
      const containers = await h.containers('web');
      expect(containers.map((c) => [c.State, c.Labels['case']])).toEqual([['running', command]]);
      expect(await readdir(markers)).toEqual([]);
      const ignored = stderr
        .split('\n')
        .filter((line) => line.includes('"compose.ignored"'))
        .map((line) => (JSON.parse(line) as { path: string }).path);
      expect(ignored).toEqual(
        expect.arrayContaining([
          join(h.dataDir, '.docker/cli-plugins/docker-compose'),
          join(h.dataDir, 'bin/docker'),
        ]),
      );
    },
  );
});
