/**
 * Issue 4, scenarios 1–4, against compose v2 and v1 (one test file each, so that they run in
 * parallel: sync-core.v2.test.ts, sync-core.v1.test.ts): deploy, no-op pass, one-service update,
 * bind-mounted file update, and a restart with the state file deleted.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { Harness, composeFile, stackOf } from '../helpers/stackd.js';

const LABELS = [
  'io.stackd.managed-by',
  'io.stackd.stack',
  'io.stackd.revision',
  'io.stackd.compose-hash',
  'io.stackd.service-hash',
] as const;

/** The scenarios with `command` (`docker compose` or `docker-compose`). */
export function syncCoreSuite(name: string, command: string): void {
  describe(`sync --once with ${name}`, () => {
    let h: Harness;
    let rev1: string;

    beforeAll(async () => {
      h = await Harness.create(command === 'docker compose' ? 'v2' : 'v1');
      h.env['STACKD_COMPOSE_COMMAND'] = command;
      rev1 = await h.commit({
        'web/compose.yaml': composeFile({
          app: { extra: 'volumes:\n  - ./app.conf:/etc/app.conf:ro' },
          api: {},
          worker: {},
        }),
        'web/app.conf': 'colour=blue\n',
        'other/compose.yaml': composeFile({ one: {} }),
      });
    });

    afterAll(async () => {
      await h.cleanup();
    });

    it('1. deploys a new stack, and a second pass changes nothing', async () => {
      const first = await h.sync();
      expect(first.exitCode).toBe(0);
      const web = stackOf(first.response, h.id('web'));
      expect(web).toMatchObject({
        status: 'synced',
        synced: { revision: rev1 },
        desired: { revision: rev1 },
      });
      expect(web.synced?.composeHash).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(web.lastResult?.outcome).toBe('success');
      const ids = await h.ids('web');
      expect(Object.keys(ids).sort()).toEqual(['api', 'app', 'worker']);

      const second = await h.sync();
      expect(second.exitCode).toBe(0);
      expect(stackOf(second.response, h.id('web')).status).toBe('synced');
      expect(await h.ids('web')).toEqual(ids);
    });

    it('2. a commit changing one service recreates only that service; every container has the five labels', async () => {
      const before = await h.ids('web');
      const rev2 = await h.commit({
        'web/compose.yaml': composeFile({
          app: { extra: 'volumes:\n  - ./app.conf:/etc/app.conf:ro' },
          api: { image: 2 },
          worker: {},
        }),
      });
      const { exitCode, response } = await h.sync();
      expect(exitCode).toBe(0);
      const web = stackOf(response, h.id('web'));
      expect(web).toMatchObject({
        status: 'synced',
        synced: { revision: rev2 },
        desired: { revision: rev2 },
      });
      const after = await h.ids('web');
      expect(after['api']).not.toBe(before['api']);
      expect(after['app']).toBe(before['app']);
      expect(after['worker']).toBe(before['worker']);
      for (const c of await h.containers('web')) {
        for (const label of LABELS) expect(c.Labels[label]).toBeDefined();
        expect(c.Labels['io.stackd.managed-by']).toBe(h.instance);
        expect(c.Labels['io.stackd.stack']).toBe(h.id('web'));
      }
      const api = (await h.containers('web')).find((c) => c.Labels['com.docker.compose.service'] === 'api');
      expect(api?.Labels['io.stackd.revision']).toBe(rev2);
      expect(api?.Labels['io.stackd.compose-hash']).toBe(web.synced?.composeHash);
      expect(api?.Image).toBe('stackd-test/busybox:2');
    });

    it('2b. a commit to another stack touches nothing here, yet synced.revision advances', async () => {
      const before = await h.ids('web');
      const hashBefore = (await h.sync()).response.stacks.find((s) => s.id === h.id('web'))?.synced
        ?.composeHash;
      const rev3 = await h.commit({ 'other/compose.yaml': composeFile({ one: {}, two: {} }) });
      const { response } = await h.sync();
      const web = stackOf(response, h.id('web'));
      expect(web).toMatchObject({ status: 'synced', synced: { revision: rev3, composeHash: hashBefore } });
      expect(await h.ids('web')).toEqual(before);
      expect(Object.keys(await h.ids('other')).sort()).toEqual(['one', 'two']);
    });

    it('3. a commit changing a bind-mounted file recreates exactly the service that mounts it', async () => {
      const before = await h.ids('web');
      await h.commit({ 'web/app.conf': 'colour=green\n' });
      const { exitCode } = await h.sync();
      expect(exitCode).toBe(0);
      const after = await h.ids('web');
      expect(after['app']).not.toBe(before['app']);
      expect(after['api']).toBe(before['api']);
      expect(after['worker']).toBe(before['worker']);
      const { stdout } = await execa('docker', ['exec', after['app'] ?? '', 'cat', '/etc/app.conf']);
      expect(stdout).toBe('colour=green');
    });

    it('4. with the state file deleted, synced revisions and hashes come back from labels; unlabelled containers are reconciled', async () => {
      const { response: known } = await h.sync();
      const web = stackOf(known, h.id('web'));
      await rm(join(h.dataDir, 'state.json'));
      // A new commit for `web`, reconciliation paused: the synced info can only come from labels.
      const newer = await h.commit({
        'web/compose.yaml': composeFile({
          app: { extra: 'volumes:\n  - ./app.conf:/etc/app.conf:ro' },
          api: { image: 2 },
          worker: { image: 2 },
        }),
      });
      const paused = await h.sync({ STACKD_RECONCILE_ENABLED: 'false' });
      const webPaused = stackOf(paused.response, h.id('web'));
      expect(webPaused.status).toBe('out_of_sync');
      expect(webPaused.desired?.revision).toBe(newer);
      expect(webPaused.synced).toMatchObject({ composeHash: web.synced?.composeHash });
      expect(webPaused.synced?.revision).not.toBe(newer);

      // A stack whose containers were made without stackd's labels (plain compose, same project).
      const plainProject = h.project('plain');
      const head = await h.commit({ 'plain/compose.yaml': composeFile({ solo: {} }) });
      const plainDir = join(h.repo.workDir, h.prefix, 'plain');
      await execa(
        command.split(' ')[0] ?? 'docker',
        [...command.split(' ').slice(1), '-p', plainProject, 'up', '-d'],
        { cwd: plainDir },
      );
      const unlabelled = await h.ids('plain');
      await rm(join(h.dataDir, 'state.json'));
      const planned = await h.cli(['plan', '--output', 'json']);
      expect(planned.exitCode).toBe(0);
      const plainPlan = (
        JSON.parse(planned.stdout) as {
          stacks: { id: string; action: string; services: { why: string }[] }[];
        }
      ).stacks.find((s) => s.id === h.id('plain'));
      expect(plainPlan?.action).toBe('update');
      expect(plainPlan?.services[0]?.why).toBe('no stackd labels');
      const { exitCode, response } = await h.sync();
      expect(exitCode).toBe(0);
      expect(stackOf(response, h.id('plain')).status).toBe('synced');
      // `newer` was never applied (paused); the apply happens at the head, which adds `plain`.
      const webNow = stackOf(response, h.id('web'));
      expect(webNow).toMatchObject({ status: 'synced', synced: { revision: head } });
      const worker = (await h.containers('web')).find(
        (c) => c.Labels['com.docker.compose.service'] === 'worker',
      );
      expect(worker?.Labels['io.stackd.revision']).toBe(head);
      expect(worker?.Labels['io.stackd.compose-hash']).toBe(webNow.synced?.composeHash);
      const relabelled = await h.containers('plain');
      expect(relabelled[0]?.Id).not.toBe(unlabelled['solo']);
      expect(relabelled[0]?.Labels['io.stackd.managed-by']).toBe(h.instance);
    });

    it("5. a stack compose rejects shows compose's error line in its status, and the journal line has the stderr tail, .env values redacted", async () => {
      const v1 = command === 'docker-compose';
      const secret = 'notaport-S3cretValue';
      await h.commit({
        // v1: `develop` is a v2 key; v2: a key compose does not know (stackd's own loader lets
        // service keys through; compose's schema is the judge). Its last lines are boilerplate.
        'broken/compose.yaml': v1
          ? 'services:\n  web:\n    image: stackd-test/busybox:1\n    develop:\n      watch:\n        - action: rebuild\n          path: .\n'
          : 'services:\n  web:\n    image: stackd-test/busybox:1\n    imagee: typo\n',
        // compose v2 quotes the interpolated value it rejects.
        'leaky/compose.yaml': 'services:\n  web:\n    image: stackd-test/busybox:1\n    ports: ["${PORT}"]\n',
        'leaky/.env': `PORT=${secret}\n`,
        // Top-level `name:` (the project name stackd reads too): v1 ends with two boilerplate lines.
        ...(v1
          ? {
              'named/compose.yaml': `name: ${h.project('named')}\nservices:\n  web:\n    image: stackd-test/busybox:1\n`,
            }
          : {}),
      });
      const { response, stderr } = await h.sync();
      const broken = stackOf(response, h.id('broken'));
      const leaky = stackOf(response, h.id('leaky'));
      expect(broken.status).toBe('failed');
      expect(leaky.status).toBe('failed');
      expect(broken.message).toMatch(
        v1
          ? /^compose rejected the stack: docker-compose config failed \(exit 1\): compose v1 does not support `develop` \(a compose v2 key\): install compose v2 system-wide .* \(compose said: Unsupported config option for services\.web: 'develop'\)$/
          : /^compose rejected the stack: docker compose config failed \(exit \d+\): validating .*compose\.yaml: services\.web Additional property imagee is not allowed$/,
      );
      expect(broken.message).not.toMatch(
        /For more on the Compose file|You might be seeing|You may need to escape/,
      );
      expect(leaky.message).toMatch(
        v1 ? /services\.web\.ports contains an invalid type/ : /: Invalid containerPort: \*\*\*$/,
      );

      if (v1) {
        const named = stackOf(response, h.id('named')).message;
        expect(named).toMatch(
          /compose v1 does not support `name` \(a top-level compose v2 key\): .* \(compose said: 'name' does not match any of the regexes: '\^x-'\)$/,
        );
        expect(named).not.toMatch(/For more on the Compose file|You might be seeing/);
      }

      const lines = stderr
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const failure = (id: string): Record<string, unknown> | undefined =>
        lines.find((l) => l['event'] === 'reconcile.failure' && l['stack'] === id);
      const brokenTail = String(failure(h.id('broken'))?.['stderr']);
      // The tail is what compose printed, boilerplate included, at most 2 KiB.
      expect(brokenTail).toContain(v1 ? 'is invalid because:' : 'validating');
      expect(brokenTail).toContain(
        v1
          ? "Unsupported config option for services.web: 'develop'"
          : 'Additional property imagee is not allowed',
      );
      expect(Buffer.byteLength(brokenTail)).toBeLessThanOrEqual(2048);
      expect(failure(h.id('broken'))?.['reason']).toBe(broken.message);
      const leakyTail = String(failure(h.id('leaky'))?.['stderr']);
      expect(leakyTail).toMatch(v1 ? /ports contains an invalid type/ : /^Invalid containerPort: \*\*\*$/);
      expect(stderr).not.toContain(secret);
      expect(JSON.stringify(response)).not.toContain(secret);
    });
  });
}
