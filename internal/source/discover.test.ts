import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { makeTempDir, removeDir, writeTree } from '../../test/helpers/git-fixtures.js';
import { findStacks, listStackFiles, rootComposeMessage } from './discover.js';
import { MODE_FILE, type TreeEntry, checkEntries } from './tree.js';
import { directoryReader } from './tree_directory.js';

const S = 'services: {}\n';

describe('findStacks', () => {
  let root: string;
  beforeAll(async () => {
    root = await makeTempDir();
    await writeTree(root, {
      'compose.yaml': S, // the root is never a stack
      'apps/web/compose.yaml': S,
      'apps/web/compose.override.yml': S,
      'apps/web/nested/compose.yaml': S, // inside a stack: not a stack
      'apps/api/docker-compose.yml': S,
      'apps/api/compose.yml': S, // preferred over docker-compose.yml
      'apps/legacy/docker-compose.yaml': S,
      'apps/legacy/docker-compose.yml': S,
      'apps/legacy/compose.override.yaml': S,
      'apps/legacy/compose.override.yml': S,
      'deep/a/b/c/compose.yaml': S,
      '.hidden/x/compose.yaml': S,
      'apps/.private/compose.yaml': S,
      'docs/README.md': '# no stack here\n',
      'apps/linked/compose.yaml': { symlink: '../web/compose.yaml' }, // links never count
      'Mixed Case/compose.yaml': S,
    });
  });
  afterAll(() => removeDir(root));

  it('finds stacks with their compose files, in order', async () => {
    const { stacks: found } = await findStacks(directoryReader(root), '');
    expect(found.map((s) => [s.id, s.dir, s.composeFiles])).toEqual([
      ['Mixed Case', 'Mixed Case', ['compose.yaml']],
      ['apps/api', 'apps/api', ['compose.yml']],
      ['apps/legacy', 'apps/legacy', ['docker-compose.yml', 'compose.override.yml']],
      ['apps/web', 'apps/web', ['compose.yaml', 'compose.override.yml']],
      ['deep/a/b/c', 'deep/a/b/c', ['compose.yaml']],
    ]);
  });

  it('makes ids relative to source.path', async () => {
    const { stacks: found, rootComposeFiles } = await findStacks(directoryReader(root), 'apps');
    expect(found.map((s) => [s.id, s.dir])).toEqual([
      ['api', 'apps/api'],
      ['legacy', 'apps/legacy'],
      ['web', 'apps/web'],
    ]);
    expect(rootComposeFiles).toEqual([]);
  });

  it('reports compose files at source.path itself, which are no stack', async () => {
    expect((await findStacks(directoryReader(root), '')).rootComposeFiles).toEqual(['compose.yaml']);
    // Below source.path, by their path from the tree's root; main file first, then the override.
    const discovery = await findStacks(directoryReader(root), 'apps/legacy');
    expect(discovery.stacks).toEqual([]);
    expect(discovery.rootComposeFiles).toEqual([
      'apps/legacy/docker-compose.yml',
      'apps/legacy/compose.override.yml',
    ]);
  });

  it('says how to move a compose file at source.path into a stack directory', () => {
    expect(rootComposeMessage(['docker-compose.yml'], 'the repository root')).toBe(
      '`docker-compose.yml` is directly at source.path (the repository root) and deploys nothing: ' +
        'stacks are the directories below it; move it into a directory, e.g. `myapp/docker-compose.yml`: ' +
        'the directory name becomes the stack id',
    );
    expect(rootComposeMessage(['s/compose.yaml', 's/compose.override.yml'], '`s`')).toBe(
      '`s/compose.yaml` and `s/compose.override.yml` are directly at source.path (`s`) and deploy nothing: ' +
        'stacks are the directories below it; move them into a directory, e.g. `myapp/compose.yaml`: ' +
        'the directory name becomes the stack id',
    );
  });

  it('refuses a missing source.path', async () => {
    await expect(findStacks(directoryReader(root), 'nope')).rejects.toThrow(/path `nope` is not a directory/);
  });

  it('lists every file of a stack, dot files and nested directories included', async () => {
    await writeTree(root, { 'apps/web/.env': 'A=1\n', 'apps/web/conf/.hidden/x': 'x' });
    const files = await listStackFiles(directoryReader(root), 'apps/web');
    expect([...files.keys()].sort()).toEqual([
      '.env',
      'compose.override.yml',
      'compose.yaml',
      'conf/.hidden/x',
      'nested/compose.yaml',
    ]);
  });
});

describe('checkEntries', () => {
  const file = (name: string): TreeEntry => ({ name, kind: 'file', mode: MODE_FILE });
  it('refuses an empty name (Git does; a crafted object might not), duplicates, and with foldCase case collisions', () => {
    expect(() => {
      checkEntries('apps', [file(''), file('a')]);
    }).toThrow('`apps` has an entry with an empty name, which Git refuses');
    expect(() => {
      checkEntries('', [file('d'), file('d')]);
    }).toThrow(/the repository root has two entries named `d`/);
    expect(() => {
      checkEntries('s', [file('A'), file('a')], true);
    }).toThrow(/`A` and `a`, which differ only in case/);
    expect(() => {
      checkEntries('s', [file('A'), file('a')]);
    }).not.toThrow();
  });
});
