/**
 * Fault: a container that can write a stack's work tree reshapes it between applies, as the
 * review did: a tracked directory swapped for a symbolic link out of the stack, a tracked file
 * swapped for a link, a tracked directory swapped for a link and then removed from Git (a
 * deletion through the link), and an untracked `.env` dropped beside the compose file. stackd
 * never writes, reads or deletes through the links: the stack fails naming the path, the other
 * stack stays synced, nothing outside the work tree changes, and the `.env` changes nothing.
 */
import { mkdir, readFile, readdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { engine } from '../helpers/docker.js';
import { Harness, composeFile, stackOf } from '../helpers/stackd.js';
import { expectNoStackTrace } from './fault-helpers.js';

/** A directory outside the work tree, with the names the links point at. */
async function canary(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(dir)).sort()) out[name] = await readFile(join(dir, name), 'utf8');
  return out;
}

const CANARY = {
  'app.conf': 'outside app.conf\n',
  'x.conf': 'outside x.conf\n',
  'keep.txt': 'outside keep\n',
};

/**
 * The cases with `command`; `links`: also the link swaps (v2 only). v1 reads `--env-file`
 * differently (it refuses /dev/null), so both run the `.env` case. One test file per command
 * (hostile-worktree.v2.test.ts, hostile-worktree.v1.test.ts), so that they run in parallel.
 */
export function hostileWorktreeSuite(name: string, command: string, links: boolean): void {
  describe(`fault: a work tree changed by a container (${name})`, () => {
    let h: Harness;
    let outside: string;
    let work: string;

    beforeAll(async () => {
      h = await Harness.create(`worktree${command.length}`);
      h.env['STACKD_COMPOSE_COMMAND'] = command;
      outside = join(h.root, 'outside');
      await mkdir(outside);
      for (const [name, content] of Object.entries(CANARY)) await writeFile(join(outside, name), content);
      work = join(h.dataDir, 'work', h.prefix, 'wt');
    });

    afterAll(async () => {
      await h.cleanup();
    });

    const sync = async (): Promise<ReturnType<Harness['sync']>> => {
      const result = await h.sync();
      expectNoStackTrace(result.stderr);
      return result;
    };

    it('applies the stack as committed', async () => {
      await h.commit({
        'wt/compose.yaml': [
          'services:',
          '  w:',
          '    image: stackd-test/busybox:${TAG:-1}',
          '    command: ["sleep", "3600"]',
          '    stop_grace_period: 1s',
          '    volumes: ["./conf:/conf:ro", "./keep.txt:/keep.txt:ro"]',
          '',
        ].join('\n'),
        'wt/conf/app.conf': 'a=1\n',
        'wt/conf/sub/x.conf': 'x=1\n',
        'wt/keep.txt': 'keep 1\n',
        'other/compose.yaml': composeFile({ o: {} }),
      });
      const { exitCode, response } = await sync();
      expect(exitCode).toBe(0);
      expect(stackOf(response, h.id('wt')).status).toBe('synced');
      expect(await readFile(join(work, 'conf/sub/x.conf'), 'utf8')).toBe('x=1\n');
    });

    it('an untracked .env in the work tree changes nothing', async () => {
      await writeFile(join(work, '.env'), 'TAG=2\n');
      await h.commit({ 'wt/keep.txt': 'keep 2\n' });
      const { exitCode, response } = await sync();
      expect(exitCode).toBe(0);
      expect(stackOf(response, h.id('wt')).status).toBe('synced');
      const [container] = await h.containers('wt');
      expect(container?.Image).toBe('stackd-test/busybox:1');
      // A tracked .env is what compose reads.
      await h.commit({ 'wt/.env': 'TAG=2\n' });
      await writeFile(join(work, '.env'), 'TAG=1\n');
      expect((await sync()).exitCode).toBe(0);
      const [updated] = await h.containers('wt');
      expect(updated?.Image).toBe('stackd-test/busybox:2');
      await h.commit({ 'wt/.env': null });
      expect((await sync()).exitCode).toBe(0);
      expect((await h.containers('wt'))[0]?.Image).toBe('stackd-test/busybox:1');
    });

    // Materialize does not depend on the compose version: the link cases run once.
    if (links) {
      it('a tracked directory swapped for a link out of the stack: failed, naming it; nothing written through it', async () => {
        await rm(join(work, 'conf/sub'), { recursive: true });
        await symlink(outside, join(work, 'conf/sub'));
        await h.commit({ 'wt/conf/sub/x.conf': 'x=2\n' });
        const { exitCode, response } = await sync();
        expect(exitCode).toBe(1);
        const wt = stackOf(response, h.id('wt'));
        expect(wt.status).toBe('failed');
        expect(wt.message).toMatch(/`conf\/sub` is a symbolic link where Git has a directory/);
        expect(wt.message).toContain(work);
        expect(stackOf(response, h.id('other')).status).toBe('synced');
        expect(await canary(outside)).toEqual(CANARY);
        // Removing the link lets stackd restore the directory.
        await rm(join(work, 'conf/sub'));
        expect((await sync()).exitCode).toBe(0);
        expect(await readFile(join(work, 'conf/sub/x.conf'), 'utf8')).toBe('x=2\n');
      });

      it('a tracked file swapped for a link: failed, naming it; the link target is untouched', async () => {
        await rm(join(work, 'keep.txt'));
        await symlink(join(outside, 'keep.txt'), join(work, 'keep.txt'));
        await h.commit({ 'wt/keep.txt': 'keep 3\n' });
        const { exitCode, response } = await sync();
        expect(exitCode).toBe(1);
        expect(stackOf(response, h.id('wt')).message).toMatch(
          /`keep\.txt` is a symbolic link where Git has a file/,
        );
        expect(await canary(outside)).toEqual(CANARY);
        await rm(join(work, 'keep.txt'));
        expect((await sync()).exitCode).toBe(0);
        expect(await readFile(join(work, 'keep.txt'), 'utf8')).toBe('keep 3\n');
      });

      it('files leaving Git under a directory swapped for a link are not deleted through it', async () => {
        await rename(join(work, 'conf'), join(h.root, 'conf-moved'));
        await symlink(outside, join(work, 'conf'));
        await h.commit({ 'wt/conf/app.conf': null, 'wt/conf/sub/x.conf': null });
        const { exitCode, response } = await sync();
        expect(exitCode).toBe(0);
        expect(stackOf(response, h.id('wt')).status).toBe('synced');
        expect(await canary(outside)).toEqual(CANARY);
      });
    }

    it('the containers are the ones stackd made, and nothing else', async () => {
      const mine = await engine.listContainers({
        all: true,
        filters: { label: [`io.stackd.managed-by=${h.instance}`] },
      });
      expect(mine.map((c) => c.Labels['com.docker.compose.service']).sort()).toEqual(['o', 'w']);
    });
  });
}
