import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { makeTempDir, removeDir, writeTree } from '../../test/helpers/git-fixtures.js';
import { SourceError } from './errors.js';
import { join } from 'node:path';
import {
  formatValidateReport,
  validateCheckout,
  validateDirectory,
  type ValidateReport,
} from './validate.js';

function billionLaughs(): string {
  let text = 'services: {a: {image: x}}\nx-0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
  for (let i = 1; i < 9; i++)
    text += `x-${i}: &l${i} [${Array(9)
      .fill(`*l${i - 1}`)
      .join(',')}]\n`;
  return text;
}

const GOOD =
  'services:\n  web:\n    image: nginx\n    healthcheck: {test: ["CMD", "true"]}\n  job:\n    image: x\n    restart: "no"\n';

describe('validateDirectory', () => {
  let root: string;
  let report: ValidateReport;
  const stack = (id: string) => report.stacks.find((s) => s.id === id);

  beforeAll(async () => {
    root = await makeTempDir();
    await writeTree(root, {
      'good/compose.yaml': GOOD,
      'bomb/compose.yaml': billionLaughs(),
      'huge/compose.yaml': `services: {}\nx-pad: "${'x'.repeat(10 * 1024 * 1024)}"\n`,
      'list/compose.yaml': '- web\n- db\n',
      'noservices/compose.yaml': 'name: noservices\nvolumes: {}\n',
      'syntax/compose.yaml': 'services:\n  web:\n    image: [nginx\n    ports: 80\n',
      'badoverride/compose.yaml': GOOD,
      'badoverride/compose.override.yaml': 'services: oops\n',
      'one/compose.yaml': 'name: shared\nservices: {a: {image: x}}\n',
      'two/compose.yaml': 'name: shared\nservices: {b: {image: x}}\n',
      'Same/compose.yaml': 'services: {a: {image: x}}\n',
      'same/compose.yaml': 'services: {a: {image: x}}\n',
    });
    report = await validateDirectory(root, {});
  });
  afterAll(() => removeDir(root));

  it('hashes a good stack, others failing do not matter', () => {
    expect(stack('good')).toEqual({
      id: 'good',
      project: 'good',
      composeHash: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
      services: [
        { name: 'job', hash: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) },
        { name: 'web', hash: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) },
      ],
      error: null,
    });
  });

  it.each([
    ['bomb', /^compose\.yaml(, line \d+)?: the document is larger than \d+ bytes once aliases are expanded/],
    ['huge', /^compose\.yaml: file is \d+ bytes, more than the limit of 1048576$/],
    ['list', /^compose\.yaml, line 1: expected a mapping at the top, found a sequence$/],
    ['noservices', /^compose\.yaml: no services: /],
    ['syntax', /^compose\.yaml, line 4: invalid YAML: /],
    ['badoverride', /^compose\.override\.yaml: `services` must be a mapping/],
    ['one', /^project name `shared` is also used by stack `two`$/],
    ['two', /^project name `shared` is also used by stack `one`$/],
    ['Same', /^project name `same` is also used by stack `same`$/],
  ])('reports %s as invalid with a clear message', (id, message) => {
    const result = stack(id);
    expect(result?.error).toMatch(message);
    expect(result?.composeHash).toBeNull();
    expect(result?.services).toEqual([]);
  });

  it('gives the same hashes on the same content', async () => {
    const again = await validateDirectory(root, { include: ['good'] });
    expect(again.stacks).toEqual([stack('good')]);
  });

  it('applies path and scope', async () => {
    await writeTree(root, { 'sub/a/compose.yaml': GOOD, 'sub/b/compose.yaml': GOOD });
    const scoped = await validateDirectory(root, { path: 'sub', exclude: ['b'] });
    expect(scoped.stacks.map((s) => s.id)).toEqual(['a']);
  });

  it('throws on a missing directory or path', async () => {
    await expect(validateDirectory(`${root}/nope`, {})).rejects.toThrow(SourceError);
    await expect(validateDirectory(root, { path: 'nope' })).rejects.toThrow(/path `nope` is not a directory/);
  });

  it('formats a table', () => {
    const text = formatValidateReport({
      stacks: [
        {
          id: 'apps/web',
          project: 'apps_web',
          composeHash: `sha256:${'a'.repeat(64)}`,
          services: [{ name: 'web', hash: 'h' }],
          error: null,
        },
        {
          id: 'bad',
          project: 'bad',
          composeHash: null,
          services: [],
          error: 'compose.yaml, line 3: invalid YAML: x',
        },
      ],
    });
    expect(text).toBe(
      [
        'STACK     PROJECT   COMPOSE HASH         SERVICES  RESULT',
        'apps/web  apps_web  sha256:aaaaaaaaaaaa  web       ok',
        'bad       bad       -                    -         invalid',
        '',
        'bad: compose.yaml, line 3: invalid YAML: x',
        '',
        '2 stack(s), 1 invalid',
        '',
      ].join('\n'),
    );
    expect(formatValidateReport({ stacks: [] })).toBe('no stacks found\n');
  });

  it('formats what compose said: each rejected stack named with its message, and who checked', () => {
    const ok = {
      composeHash: `sha256:${'b'.repeat(64)}`,
      services: [{ name: 'web', hash: 'h' }],
      error: null,
    };
    const text = formatValidateReport({
      stacks: [
        { id: 'bad', project: 'bad', ...ok, composeError: 'docker compose config failed (exit 15): nope' },
        { id: 'good', project: 'good', ...ok, composeError: null },
        {
          id: 'yaml',
          project: 'yaml',
          composeHash: null,
          services: [],
          error: 'compose.yaml: x',
          composeError: null,
        },
      ],
      compose: { command: 'docker compose 2.26.1', skipped: null },
    });
    expect(text).toBe(
      [
        'STACK  PROJECT  COMPOSE HASH         SERVICES  RESULT',
        'bad    bad      sha256:bbbbbbbbbbbb  web       rejected by compose',
        'good   good     sha256:bbbbbbbbbbbb  web       ok',
        'yaml   yaml     -                    -         invalid',
        '',
        'yaml: compose.yaml: x',
        'bad: docker compose config failed (exit 15): nope',
        '',
        '3 stack(s), 1 invalid, 1 rejected by docker compose 2.26.1',
        '',
      ].join('\n'),
    );
    const skipped = formatValidateReport({
      stacks: [{ id: 'good', project: 'good', ...ok, composeError: null }],
      compose: { command: null, skipped: '--no-compose' },
    });
    expect(skipped.trimEnd().split('\n').at(-1)).toBe('1 stack(s), 0 invalid; not checked with compose');
  });
});

describe('validateCheckout: what compose is given', () => {
  let root: string;
  beforeAll(async () => {
    root = await makeTempDir();
    await writeTree(root, {
      'stacks/web/docker-compose.yml': GOOD,
      'stacks/web/compose.override.yaml': 'services: {web: {environment: {A: "1"}}}\n',
      'stacks/web/.env': 'TAG=1\n',
      'stacks/apps/api/compose.yaml': GOOD,
      'stacks/broken/compose.yaml': 'services: [\n',
    });
  });
  afterAll(() => removeDir(root));

  it('each stack that passed: its directory, its compose files in -f order, its .env if any, its project', async () => {
    const { report, composeInputs } = await validateCheckout(root, { path: 'stacks' });
    expect(report).toEqual(await validateDirectory(root, { path: 'stacks' }));
    expect(report.stacks.map((s) => s.id)).toEqual(['apps/api', 'broken', 'web']);
    const web = join(root, 'stacks', 'web');
    expect(composeInputs).toEqual([
      {
        id: 'apps/api',
        project: 'apps_api',
        dir: join(root, 'stacks', 'apps', 'api'),
        files: [join(root, 'stacks', 'apps', 'api', 'compose.yaml')],
      },
      {
        id: 'web',
        project: 'web',
        dir: web,
        files: [join(web, 'docker-compose.yml'), join(web, 'compose.override.yaml')],
        envFile: join(web, '.env'),
      },
    ]);
  });
});

describe('validateDirectory: SOPS and age files, without the key', () => {
  let root: string;
  const ENV_USER = 'services:\n  app:\n    image: x\n    env_file: app.env\n';

  beforeAll(async () => {
    const { ageEncrypt, ageKeygen, sopsDotenv } = await import('../../test/helpers/sops.js');
    const key = ageKeygen();
    root = await makeTempDir();
    await writeTree(root, {
      'sealed/compose.yaml': ENV_USER,
      'sealed/app.sops.env': sopsDotenv('PASSWORD=p\n', { recipients: [key.recipient] }),
      'sealed/token.age': ageEncrypt('t', [key.recipient], true).toString('utf8'),
      'plain/compose.yaml': ENV_USER,
      'plain/app.sops.env': 'PASSWORD=committed-in-clear\n',
      'clash/compose.yaml': ENV_USER,
      'clash/app.env': 'A=1\n',
      'clash/app.sops.env': sopsDotenv('A=2\n', { recipients: [key.recipient] }),
      'notage/compose.yaml': ENV_USER.replace('env_file: app.env', 'env_file: []'),
      'notage/token.age': 'hello\n',
    });
  });
  afterAll(() => removeDir(root));

  it('a well-formed file passes; its plain name satisfies the compose file; compose is not run on it', async () => {
    const checked = await validateCheckout(root, {});
    const sealed = checked.report.stacks.find((s) => s.id === 'sealed');
    expect(sealed?.error).toBeNull();
    expect(checked.composeInputs.map((i) => i.id)).not.toContain('sealed');
  });

  it.each([
    ['plain', /^`app\.sops\.env` is not a valid encrypted file: it has no `sops` metadata/],
    ['clash', /^`app\.sops\.env` decrypts to `app\.env`, which `app\.env` already provides/],
    ['notage', /^`token\.age` is not a valid encrypted file: it is not an age file/],
  ])('%s is invalid, naming the file and why (and no value)', async (id, message) => {
    const report = await validateDirectory(root, {});
    const error = report.stacks.find((s) => s.id === id)?.error ?? '';
    expect(error).toMatch(message);
    expect(error).not.toContain('committed-in-clear');
  });
});
