/**
 * Fault: trees a forge accepts but `git add` never makes, pushed to the real Git server: a
 * symbolic link and a directory with one name (the link pointing outside the stack, absolutely
 * and relatively), names differing only in case, `.GIT` and `git~1`, `..`, a stack directory whose
 * name holds a newline, a file over `source.maxFileSize` and a stack over `source.maxStackFiles`.
 * Read over HTTP and as a local path: each hostile stack is `failed` with its reason, the good
 * stack is `synced`, and nothing is written outside the work tree.
 */
import { lstat, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type CraftEntry, pushCrafted } from '../helpers/git-craft.js';
import { Harness, composeFile, stackOf } from '../helpers/stackd.js';
import { expectNoStackTrace } from './fault-helpers.js';

const COMPOSE: CraftEntry = { name: 'compose.yaml', file: composeFile({ x: {} }) };

/** Every path under `dir` named `name`, without following symbolic links. */
async function findNamed(dir: string, name: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.name === name) found.push(path);
    if (entry.isDirectory()) found.push(...(await findNamed(path, name)));
  }
  return found;
}

describe('fault: hostile Git trees', () => {
  let h: Harness;
  let outside: string;

  beforeAll(async () => {
    h = await Harness.create('hostiletree');
    outside = join(h.root, 'outside');
    await mkdir(outside);
    await writeFile(join(outside, 'sentinel'), 'untouched\n');
    await h.commit({ 'good/compose.yaml': composeFile({ g: {} }) });
    const p = h.prefix;
    const pwned = { name: 'pwned', file: 'written through a link\n' };
    const many: CraftEntry[] = Array.from({ length: 60 }, (_, i) => ({ name: `f${i}.txt`, file: `${i}\n` }));
    await pushCrafted(h.repo, {
      [`${p}/dup`]: [COMPOSE, { name: 'd', symlink: outside }, { name: 'd', tree: [pwned] }],
      [`${p}/duprel`]: [COMPOSE, { name: 'd', symlink: '../../../../outside' }, { name: 'd', tree: [pwned] }],
      [`${p}/case`]: [COMPOSE, { name: 'Conf.txt', file: 'a\n' }, { name: 'conf.txt', file: 'b\n' }],
      [`${p}/dotgit`]: [COMPOSE, { name: '.GIT', tree: [{ name: 'config', file: '[core]\n' }] }],
      [`${p}/shortgit`]: [COMPOSE, { name: 'git~1', tree: [pwned] }],
      [`${p}/dotdot`]: [COMPOSE, { name: '..', tree: [pwned] }],
      [`${p}/new\nline`]: [COMPOSE],
      [`${p}/big`]: [COMPOSE, { name: 'blob.bin', file: 'x'.repeat(8192) }],
      [`${p}/many`]: [COMPOSE, ...many],
      [`${p}/oldmode`]: [COMPOSE, { name: 'conf', file: 'x\n', mode: '100664' }],
      [`${p}/envlink`]: [COMPOSE, { name: '.env', symlink: '/run/credentials/stackd.service/api-token' }],
    });
    const names = [
      'dup',
      'duprel',
      'case',
      'dotgit',
      'shortgit',
      'dotdot',
      'big',
      'many',
      'oldmode',
      'envlink',
    ];
    for (const name of names) h.project(name);
  });

  afterAll(async () => {
    await h.cleanup();
  });

  const expected: Record<string, RegExp> = {
    dup: /two entries named `d`/,
    duprel: /two entries named `d`/,
    case: /`Conf\.txt` and `conf\.txt`, which differ only in case/,
    dotgit: /entry named "\.GIT", which Git refuses/,
    shortgit: /entry named "git~1", which Git refuses/,
    dotdot: /entry named "\.\.", which Git refuses/,
    'new\\u000aline': /control character or line separator/,
    big: /`blob\.bin` is 8192 bytes, more than the limit of 4 KiB per file \(source\.maxFileSize\)/,
    many: /61 files, more than the limit of 50 \(source\.maxStackFiles\)/,
    oldmode: /cannot be read: .*100664/,
    envlink: /`\.env` is a symbolic link/,
  };

  it.each([
    ['over HTTP', () => ({})],
    [
      'as a local path',
      () => ({ STACKD_SOURCE_URL: h.repo.bareDir, STACKD_DATA_DIR: join(h.root, 'data-local') }),
    ],
  ])(
    '%s: each hostile stack fails with its reason, the good one syncs, nothing is written outside',
    async (_, env) => {
      const { exitCode, response, stderr } = await h.sync({
        STACKD_SOURCE_MAX_FILE_SIZE: '4KiB',
        STACKD_SOURCE_MAX_STACK_FILES: '50',
        ...env(),
      });
      expect(exitCode).toBe(1);
      for (const [name, message] of Object.entries(expected)) {
        const stack = stackOf(response, h.id(name));
        expect([name, stack.status, stack.message]).toEqual([name, 'failed', expect.stringMatching(message)]);
      }
      expect(stackOf(response, h.id('good')).status).toBe('synced');
      expect((await h.containers('good')).map((c) => c.State)).toEqual(['running']);
      for (const name of ['dup', 'duprel', 'case', 'big', 'many'])
        expect(await h.containers(name)).toEqual([]);
      // Nothing was written anywhere: not through the links, not inside the work trees either.
      expect(await readdir(outside)).toEqual(['sentinel']);
      expect(await readFile(join(outside, 'sentinel'), 'utf8')).toBe('untouched\n');
      expect(await findNamed(h.root, 'pwned')).toEqual([]);
      await expect(lstat(join(h.dataDir, 'work', h.prefix, 'dup'))).rejects.toThrow(/ENOENT/);
      expectNoStackTrace(stderr);
    },
  );

  it('compose errors quoting a host file (an absolute env_file) never carry its content into status, state or logs', async () => {
    const hostFile = join(h.root, 'host-secrets.env');
    await writeFile(hostFile, 'PASS"WORD=hunter2-0123\n');
    await h.commit({
      'leak/compose.yaml': composeFile({ l: { extra: `env_file: ${JSON.stringify(hostFile)}` } }),
    });
    const { response, stderr } = await h.sync({ STACKD_LOG_LEVEL: 'debug' });
    const leak = stackOf(response, h.id('leak'));
    expect(leak.status).toBe('failed');
    expect(leak.message).toMatch(/in variable name "…" \(the file's content is not shown\)/);
    for (const text of [
      JSON.stringify(response),
      stderr,
      await readFile(join(h.dataDir, 'state.json'), 'utf8'),
    ]) {
      expect(text).not.toContain('hunter2');
    }
  });

  it('a directory above the stacks that cannot be read fails the fetch: the last good state stays, nothing is pruned', async () => {
    expect((await h.sync({ STACKD_RECONCILE_PRUNE: 'true' })).exitCode).toBe(1); // the hostile stacks
    const before = await h.ids('good');
    await pushCrafted(h.repo, {
      [`${h.prefix}/group`]: [
        { name: 'x', file: 'a\n' },
        { name: 'x', tree: [{ name: 'y', file: 'b\n' }] },
        { name: 'api', tree: [COMPOSE] },
      ],
    });
    const { exitCode, stderr } = await h.sync({ STACKD_RECONCILE_PRUNE: 'true' });
    expect(exitCode).toBe(3); // the fetch failed
    expect(stderr).toContain(`\`${h.prefix}/group\` has two entries named \`x\``);
    expect(await h.ids('good')).toEqual(before);
    expect((await h.containers('good')).map((c) => c.State)).toEqual(['running']);
  });
});
