import { describe, expect, it } from '@jest/globals';
import { sha256Hex } from './digest.js';
import { hashStack, type StackHashes } from './stack.js';

type Files = Record<string, string>;
const encoder = new TextEncoder();
const LINK = 'link:';

/** A stack as path → content (`link:target` is a symbolic link); compose files as discovery finds them. */
function hash(files: Files, composeFiles?: string[], environment: Record<string, string> = {}): StackHashes {
  const names =
    composeFiles ?? ['compose.yaml', 'compose.override.yml'].filter((p) => files[p] !== undefined);
  const content = (path: string): string | undefined => {
    const text = files[path];
    return text?.startsWith(LINK) === true ? text.slice(LINK.length) : text;
  };
  return hashStack({
    id: 'app',
    composeFiles: names,
    files: new Map(
      Object.entries(files).map(([path, text]) => [
        path,
        { mode: text.startsWith(LINK) ? '120000' : '100644', sha256: sha256Hex(content(path) ?? '') },
      ]),
    ),
    read: (path) => {
      const text = content(path);
      return text === undefined ? undefined : encoder.encode(text);
    },
    environment,
  });
}

/** The services whose hash differs between two versions of a stack (added and gone ones too). */
function changed(before: StackHashes, after: StackHashes): string[] {
  const names = new Set([...before.services.keys(), ...after.services.keys()]);
  return [...names].filter((n) => before.services.get(n)?.hash !== after.services.get(n)?.hash).sort();
}

const diff = (base: Files, patch: Files, env?: Record<string, string>): string[] =>
  changed(hash(base, undefined, env), hash({ ...base, ...patch }, undefined, env));

describe('loading like compose: equivalent spellings hash alike', () => {
  const same = (a: string, b: string): void => {
    const one = hash({ 'compose.yaml': `services:\n  web:\n    image: x\n${a}` });
    const two = hash({ 'compose.yaml': `services:\n  web:\n    image: x\n${b}` });
    expect(two.services.get('web')?.hash).toBe(one.services.get('web')?.hash);
  };
  it.each([
    ['environment list and mapping', '    environment: [A=1, B=two]\n', '    environment: {A: 1, B: two}\n'],
    [
      'a number and its string',
      '    environment: {A: 4}\n    cpus: 0.5\n',
      '    environment: {A: "4"}\n    cpus: "0.5"\n',
    ],
    [
      'ports short and long',
      '    ports: ["127.0.0.1:8080:80"]\n',
      '    ports: [{target: 80, published: "8080", host_ip: 127.0.0.1}]\n',
    ],
    ['a port range and its ports', '    ports: ["8000-8001:80-81"]\n', '    ports: ["8000:80", "8001:81"]\n'],
    ['command string and list', '    command: sh -c "echo hi"\n', '    command: [sh, -c, echo hi]\n'],
    [
      'networks list and mapping',
      '    networks: [a]\nnetworks: {a: {}}\n',
      '    networks: {a: {}}\nnetworks: {a: }\n',
    ],
    ['build string and mapping', '    build: ./app\n', '    build: {context: app, dockerfile: Dockerfile}\n'],
    [
      'secrets short and long',
      '    secrets: [s]\nsecrets: {s: {file: ./s.txt}}\n',
      '    secrets: [{source: s}]\nsecrets: {s: {file: s.txt}}\n',
    ],
    [
      'extra_hosts list, = and mapping forms',
      '    extra_hosts: ["a:1.1.1.1", "b=::1", "b=2.2.2.2"]\n',
      '    extra_hosts: {b: ["2.2.2.2", "::1"], a: 1.1.1.1}\n',
    ],
    [
      'key order and comments',
      '    # c\n    restart: always\n    init: true\n',
      '    init: true\n    restart: always # c\n',
    ],
  ])('%s', (_what, a, b) => {
    same(a, b);
  });

  it('one host with two addresses: changing either one changes the service', () => {
    const hosts = (a: string): Files => ({
      'compose.yaml': `services:\n  web: {image: x, extra_hosts: ["h:${a}", "h:2.2.2.2"]}\n`,
    });
    expect(changed(hash(hosts('1.1.1.1')), hash(hosts('3.3.3.3')))).toEqual(['web']);
  });

  it('depends_on short and long hash alike; a changed condition recreates (compose 2.26 does too)', () => {
    const base = { 'compose.yaml': 'services:\n  db: {image: d}\n  web: {image: x, depends_on: [db]}\n' };
    const long = (condition: string): Files => ({
      'compose.yaml': `services:\n  db: {image: d}\n  web: {image: x, depends_on: {db: {condition: ${condition}}}}\n`,
    });
    expect(diff(base, long('service_started'))).toEqual([]);
    expect(diff(base, long('service_healthy'))).toEqual(['web']);
  });
});

describe('loading like compose: attribution by what a service uses', () => {
  const base: Files = {
    'compose.yaml': `services:
  web:
    image: "nginx:\${TAG}"
    volumes: ["\${DATA}/web:/data", "./conf:/etc/conf:ro"]
    networks: [front]
  db:
    image: pg
    environment: {PASSWORD: "\${DB_PASSWORD}"}
    volumes: [dbdata:/var/lib]
networks: {front: {}}
volumes: {dbdata: {}}
x-note: one
`,
    '.env': 'TAG=1\nDATA=/srv\nDB_PASSWORD=a\n',
    'conf/app.ini': 'a=1\n',
    'README.md': 'docs\n',
  };
  const compose = base['compose.yaml'] ?? '';

  it.each([
    ['a README commit, with ${DATA} in a bind mount', { 'README.md': 'more\n' }, []],
    ['a .env variable one service uses', { '.env': 'TAG=2\nDATA=/srv\nDB_PASSWORD=a\n' }, ['web']],
    ["the other service's variable", { '.env': 'TAG=1\nDATA=/srv\nDB_PASSWORD=b\n' }, ['db']],
    ['a .env variable nobody uses', { '.env': 'TAG=1\nDATA=/srv\nDB_PASSWORD=a\nOTHER=1\n' }, []],
    ['a bind-mounted file', { 'conf/app.ini': 'a=2\n' }, ['web']],
    [
      'a network only a new service uses',
      { 'compose.yaml': compose.replace('networks: {front: {}}', 'networks: {front: {}, back: {}}') },
      [],
    ],
    [
      'the network a service uses',
      { 'compose.yaml': compose.replace('front: {}', 'front: {internal: true}') },
      ['web'],
    ],
    [
      'the volume a service mounts',
      { 'compose.yaml': compose.replace('dbdata: {}', 'dbdata: {driver: local}') },
      ['db'],
    ],
    ['an x- extension no anchor uses', { 'compose.yaml': compose.replace('x-note: one', 'x-note: two') }, []],
  ])('%s', (_what, patch, services) => {
    expect(diff(base, patch)).toEqual(services);
  });

  it('takes the environment compose runs with over .env', () => {
    const one = hash(base, undefined, { TAG: '9' });
    const two = hash({ ...base, '.env': 'TAG=2\nDATA=/srv\nDB_PASSWORD=a\n' }, undefined, { TAG: '9' });
    expect(changed(one, two)).toEqual([]);
  });

  it('follows a symbolic link inside the stack to its target', () => {
    const files: Files = {
      'compose.yaml': 'services:\n  web: {image: x, volumes: ["./conf:/c"]}\n  other: {image: y}\n',
      conf: `${LINK}shared/conf`,
      'shared/conf/a.ini': '1',
    };
    expect(diff(files, { 'shared/conf/a.ini': '2' })).toEqual(['web']);
  });

  it('attributes additional build contexts and build secrets', () => {
    const files: Files = {
      'compose.yaml': `services:
  web:
    build: {context: ./app, additional_contexts: {lib: ./lib}, secrets: [token]}
  other: {image: y}
secrets: {token: {file: ./token.txt}}
`,
      'app/Dockerfile': 'FROM x',
      'lib/a.go': '1',
      'token.txt': 't1',
    };
    expect(diff(files, { 'lib/a.go': '2' })).toEqual(['web']);
    expect(diff(files, { 'token.txt': 't2' })).toEqual(['web']);
    expect(diff(files, { 'app/Dockerfile': 'FROM y' })).toEqual(['web']);
  });
});

describe('loading like compose: files, documents, overrides', () => {
  it('merges the documents of one file in order', () => {
    const result = hash({
      'compose.yaml': 'services:\n  a: {image: x}\n---\nservices:\n  a: {image: y}\n  b: {image: z}\n',
    });
    expect([...result.services.keys()].sort()).toEqual(['a', 'b']);
    expect((result.document['services'] as Record<string, Record<string, unknown>>)['a']?.['image']).toBe(
      'y',
    );
  });

  it('applies !reset and !override in an override file', () => {
    const result = hash({
      'compose.yaml':
        'services:\n  web: {image: x, ports: ["80:80"], environment: {A: 1, B: 2}, profiles: [debug]}\n',
      'compose.override.yml':
        'services:\n  web:\n    ports: !reset []\n    environment: !override {C: 3}\n    profiles: !reset []\n',
    });
    const web = (result.document['services'] as Record<string, Record<string, unknown>>)['web'];
    expect(web?.['ports']).toBeUndefined();
    expect(web?.['environment']).toEqual({ C: '3' });
    expect([...result.services.keys()]).toEqual(['web']);
  });

  it("merges list and mapping forms across files without losing the base file's change", () => {
    const files = (dns: string): Files => ({
      'compose.yaml': `services:\n  web: {image: x, dns: ${dns}, depends_on: [db], networks: [a]}\n  db: {image: d}\nnetworks: {a: {}, b: {}}\n`,
      'compose.override.yml':
        'services:\n  web: {dns: [8.8.8.8], depends_on: {cache: {condition: service_started}}, networks: {b: {}}}\n  cache: {image: c}\n',
    });
    expect(changed(hash(files('1.1.1.1')), hash(files('9.9.9.9')))).toEqual(['web']);
  });

  it("reads COMPOSE_FILE and COMPOSE_PROFILES from the stack's .env", () => {
    const files: Files = {
      'compose.yaml': 'services:\n  web: {image: x}\n  debug: {image: d, profiles: [debug]}\n',
      'prod.yaml': 'services:\n  web: {image: prod}\n',
      '.env': 'COMPOSE_FILE=compose.yaml:prod.yaml\nCOMPOSE_PROFILES=debug\n',
    };
    const result = hash(files);
    expect(result.composeFiles).toEqual(['compose.yaml', 'prod.yaml']);
    expect([...result.services.keys()].sort()).toEqual(['debug', 'web']);
    expect((result.document['services'] as Record<string, Record<string, unknown>>)['web']?.['image']).toBe(
      'prod',
    );
    expect(() => hash({ ...files, '.env': 'COMPOSE_FILE=../x.yaml\n' })).toThrow(
      /COMPOSE_FILE names `\.\.\/x\.yaml`/,
    );
  });
});

describe('loading like compose: include and extends', () => {
  const included: Files = {
    'compose.yaml': 'include:\n  - db/compose.yaml\nservices:\n  web: {image: x, depends_on: [db]}\n',
    'db/compose.yaml':
      'services:\n  db:\n    image: "pg:${PG:-16}"\n    env_file: db.env\n    volumes: ["./data:/data"]\n',
    'db/db.env': 'A=1\n',
    'db/.env': 'PG=15\n',
  };

  it('loads included services with paths and .env relative to the included file', () => {
    const result = hash(included);
    expect([...result.services.keys()].sort()).toEqual(['db', 'web']);
    const db = (result.document['services'] as Record<string, Record<string, unknown>>)['db'];
    expect(db?.['image']).toBe('pg:15');
    expect(db?.['env_file']).toEqual([{ path: './db/db.env', required: true }]);
    expect(diff(included, { 'db/db.env': 'A=2\n' })).toEqual(['db']);
    expect(
      diff(included, { 'db/compose.yaml': (included['db/compose.yaml'] ?? '').replace('16', '17') }),
    ).toEqual([]);
    expect(diff(included, { 'db/.env': 'PG=14\n' })).toEqual(['db']);
  });

  it('refuses an include outside the stack directory, and a conflicting service', () => {
    expect(() =>
      hash({ 'compose.yaml': 'include: [../common.yaml]\nservices:\n  web: {image: x}\n' }),
    ).toThrow(/`include` `\.\.\/common\.yaml` is outside the stack directory/);
    expect(() =>
      hash({ ...included, 'compose.yaml': 'include: [db/compose.yaml]\nservices:\n  db: {image: other}\n' }),
    ).toThrow(/services\.db conflicts/);
  });

  it('resolves extends in the same file: a change to a template that is not started reaches its users', () => {
    const files = (level: string): Files => ({
      'compose.yaml': `services:
  base: {image: x, environment: {LEVEL: ${level}}, profiles: [template]}
  web: {extends: base, profiles: !reset [], ports: ["80:80"]}
  other: {image: y}
`,
    });
    expect([...hash(files('1')).services.keys()].sort()).toEqual(['other', 'web']);
    expect(changed(hash(files('1')), hash(files('2')))).toEqual(['web']);
  });

  it('resolves extends from another file, its paths relative to that file', () => {
    const files: Files = {
      'compose.yaml':
        'services:\n  web: {extends: {file: lib/base.yaml, service: app}, image: x}\n  other: {image: y}\n',
      'lib/base.yaml': 'services:\n  app: {env_file: app.env, environment: {A: 1}}\n',
      'lib/app.env': 'K=1\n',
    };
    const web = (hash(files).document['services'] as Record<string, Record<string, unknown>>)['web'];
    expect(web?.['env_file']).toEqual([{ path: './lib/app.env', required: true }]);
    expect(diff(files, { 'lib/app.env': 'K=2\n' })).toEqual(['web']);
    expect(
      diff(files, { 'lib/base.yaml': 'services:\n  app: {env_file: app.env, environment: {A: 2}}\n' }),
    ).toEqual(['web']);
    expect(() =>
      hash({ 'compose.yaml': 'services:\n  web: {extends: {file: ../base.yaml, service: app}}\n' }),
    ).toThrow(/`extends.file` `\.\.\/base\.yaml` is outside the stack directory/);
  });
});

describe('loading like compose: interpolation', () => {
  it.each([
    ['${A:-d}', {}, 'd'],
    ['${A:-d}', { A: '' }, 'd'],
    ['${A-d}', { A: '' }, ''],
    ['${A:+alt}', { A: 'x' }, 'alt'],
    ['${A+alt}', { A: '' }, 'alt'],
    ['$$A $A', { A: 'x' }, '$A x'],
    ['${A:-${B:-z}}', {}, 'z'],
    ['echo $1', {}, 'echo $1'],
  ])('%s with %j', (text, env, expected) => {
    const result = hash(
      { 'compose.yaml': `services:\n  web: {image: x, environment: {V: "${text}"}}\n` },
      undefined,
      env,
    );
    const web = (result.document['services'] as Record<string, Record<string, Record<string, unknown>>>)[
      'web'
    ];
    expect(web?.['environment']?.['V']).toBe(expected);
  });

  it('fails on a malformed reference before compose is asked, naming the key', () => {
    expect(() => hash({ 'compose.yaml': 'services:\n  web: {image: "x:${TAG"}\n' })).toThrow(
      /^compose\.yaml: invalid interpolation format: `x:\$\{TAG` \(a `\$\{` is not closed; write `\$\$` for a literal `\$`\) \(at `services\.web\.image`\)$/,
    );
  });

  it('fails on a required variable without a value, naming it', () => {
    expect(() => hash({ 'compose.yaml': 'services:\n  web: {image: "${IMG:?set IMG}"}\n' })).toThrow(
      /required variable IMG is missing a value: set IMG \(at `services\.web\.image`\)/,
    );
  });
});

describe('loading like compose: what compose refuses at up, refused at once', () => {
  it.each([
    [
      'an undefined volume',
      'volumes: [data:/d]',
      /service `web` mounts volume `data`, which the top-level `volumes` does not define/,
    ],
    ['an undefined network', 'networks: [front]', /service `web` joins network `front`/],
    ['an undefined secret', 'secrets: [s]', /service `web` uses secret `s`/],
    ['an undefined config', 'configs: [c]', /service `web` uses config `c`/],
    [
      'a missing env_file',
      'env_file: [missing.env]',
      /service `web` reads env_file `\.\/missing\.env`, which does not exist/,
    ],
  ])('%s', (_what, line, message) => {
    expect(() => hash({ 'compose.yaml': `services:\n  web:\n    image: x\n    ${line}\n` })).toThrow(message);
  });

  it('lets an optional env_file be missing, and the default network be undeclared', () => {
    expect(() =>
      hash({
        'compose.yaml':
          'services:\n  web: {image: x, env_file: [{path: opt.env, required: false}], networks: [default]}\n',
      }),
    ).not.toThrow();
  });

  it('refuses a compose or .env file that is a symbolic link, naming it', () => {
    expect(() =>
      hash({
        'compose.yaml': 'include: [db.yaml]\nservices:\n  web: {image: x}\n',
        'db.yaml': `${LINK}real.yaml`,
        'real.yaml': 'services: {db: {image: d}}\n',
      }),
    ).toThrow(/^db\.yaml: is a symbolic link/);
    expect(() =>
      hash({
        'compose.yaml': 'include: [db/compose.yaml]\nservices:\n  web: {image: x}\n',
        'db/compose.yaml': 'services: {db: {image: "d:${T}"}}\n',
        'db/.env': `${LINK}real.env`,
        'db/real.env': 'T=1\n',
      }),
    ).toThrow(/^db\/\.env: is a symbolic link/);
  });

  it('stops an include fan-out after a bounded number of files', () => {
    const files: Files = {
      'compose.yaml': 'include: [f1.yaml, f1.yaml, f1.yaml]\nservices:\n  web: {image: x}\n',
    };
    for (let i = 1; i < 15; i++)
      files[`f${i}.yaml`] = `include: [f${i + 1}.yaml, f${i + 1}.yaml, f${i + 1}.yaml]\n`;
    files['f15.yaml'] = 'services: {}\n';
    expect(() => hash(files)).toThrow(/more than 256 compose files read through include and extends/);
  });
});
