import { describe, expect, it } from '@jest/globals';
import { sha256Hex } from './digest.js';
import { ComposeFileError } from './errors.js';
import { hashStack, type StackHashes } from './stack.js';

type Files = Record<string, string>;
const encoder = new TextEncoder();

/** Hash a stack given as path → content; compose.yaml (+ compose.override.yaml) are the compose files. */
function hash(files: Files, id = 'apps/web'): StackHashes {
  const composeFiles = ['compose.yaml', 'compose.override.yaml']
    .filter((path) => files[path] !== undefined)
    .map((path) => ({ path, content: encoder.encode(files[path]) }));
  const map = new Map(
    Object.entries(files).map(([path, content]) => [path, { mode: '100644', sha256: sha256Hex(content) }]),
  );
  return hashStack({
    id,
    composeFiles,
    files: map,
    read: (path) => (files[path] === undefined ? undefined : encoder.encode(files[path])),
  });
}

function serviceHashes(result: StackHashes): Record<string, string> {
  return Object.fromEntries([...result.services].map(([name, s]) => [name, s.hash]));
}

const BASE = `
services:
  web:
    image: nginx:1.25
    environment:
      MODE: prod
      PORT: "80"
    ports: ["8080:80"]
    command: ["nginx", "-g", "daemon off;"]
  db:
    image: postgres:16
`;

describe('hashStack: invariance under reformatting', () => {
  const reference = hash({ 'compose.yaml': BASE });
  it.each([
    ['comments', `# top\n${BASE.replace('image: nginx:1.25', 'image: nginx:1.25 # pinned')}\n# end\n`],
    [
      'key order',
      `services:\n  db:\n    image: postgres:16\n  web:\n    command: ["nginx", "-g", "daemon off;"]\n    ports: ["8080:80"]\n    environment:\n      PORT: "80"\n      MODE: prod\n    image: nginx:1.25\n`,
    ],
    [
      'quoting',
      BASE.replace('image: nginx:1.25', "image: 'nginx:1.25'").replace('MODE: prod', 'MODE: "prod"'),
    ],
    [
      'flow style',
      `services: {web: {image: "nginx:1.25", environment: {MODE: prod, PORT: "80"}, ports: ["8080:80"], command: [nginx, -g, "daemon off;"]}, db: {image: "postgres:16"}}\n`,
    ],
    [
      'block sequences and indentation',
      `services:\n    web:\n        image: nginx:1.25\n        environment:\n            MODE: prod\n            PORT: "80"\n        ports:\n        - "8080:80"\n        command:\n          - nginx\n          - -g\n          - daemon off;\n    db:\n        image: postgres:16\n`,
    ],
    ['an anchor', BASE.replace('image: nginx:1.25', 'image: &img nginx:1.25')],
  ])('%s', (_what, text) => {
    const result = hash({ 'compose.yaml': text });
    expect(result.composeHash).toBe(reference.composeHash);
    expect(serviceHashes(result)).toEqual(serviceHashes(reference));
  });

  it('an alias instead of a repeated value', () => {
    const plain = hash({ 'compose.yaml': 'x-env: {A: "1"}\nservices:\n  a: {environment: {A: "1"}}\n' });
    const alias = hash({ 'compose.yaml': 'x-env: &env {A: "1"}\nservices:\n  a: {environment: *env}\n' });
    expect(alias.composeHash).toBe(plain.composeHash);
    expect(serviceHashes(alias)).toEqual(serviceHashes(plain));
  });

  it('has the documented shapes', () => {
    expect(reference.composeHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(reference.services.get('web')?.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(reference.project).toBe('apps_web');
  });
});

describe('hashStack: changes', () => {
  const files: Files = {
    'compose.yaml': `
services:
  web:
    image: nginx:1.25
    env_file: [web.env]
    volumes: ["./conf/nginx.conf:/etc/nginx/nginx.conf:ro", "./site:/usr/share/nginx/html", "data:/data"]
  worker:
    image: busybox:1
    environment: {MODE: prod}
    volumes: [{type: bind, source: ./scripts, target: /scripts}]
    configs: [app]
  db:
    image: postgres:16
volumes: {data: {}}
configs: {app: {file: ./app.conf}}
`,
    '.env': 'TAG=1\n',
    'web.env': 'A=1\n',
    'conf/nginx.conf': 'worker_processes 1;\n',
    'site/index.html': '<h1>hi</h1>\n',
    'scripts/run.sh': 'echo hi\n',
    'app.conf': 'x=1\n',
    'README.md': '# docs\n',
  };
  const before = hash(files);
  const changed = (patch: Files): string[] => {
    const after = hash({ ...files, ...patch });
    expect(after.composeHash).not.toBe(before.composeHash);
    return [...after.services.keys()].filter(
      (n) => after.services.get(n)?.hash !== before.services.get(n)?.hash,
    );
  };
  const compose = files['compose.yaml'] ?? '';

  it.each([
    ['image tag', { 'compose.yaml': compose.replace('nginx:1.25', 'nginx:1.26') }, ['web']],
    ['environment value', { 'compose.yaml': compose.replace('MODE: prod', 'MODE: dev') }, ['worker']],
    ['.env variable no service uses', { '.env': 'TAG=2\n' }, []],
    ['env_file content', { 'web.env': 'A=2\n' }, ['web']],
    ['bind-mounted file', { 'conf/nginx.conf': 'worker_processes 2;\n' }, ['web']],
    ['file in a bind-mounted directory', { 'site/new.html': 'new\n' }, ['web']],
    ['long-syntax bind mount', { 'scripts/run.sh': 'echo bye\n' }, ['worker']],
    ['config file', { 'app.conf': 'x=2\n' }, ['worker']],
    ['unreferenced file', { 'README.md': '# more docs\n' }, []],
    ['top-level volumes', { 'compose.yaml': compose.replace('data: {}', 'data: {driver: local}') }, ['web']],
  ])('%s', (_what, patch, services) => {
    expect(changed(patch).sort()).toEqual([...services].sort());
  });

  it('resolves an interpolated file reference and attributes only that file', () => {
    const text = `services:\n  a: {image: x, env_file: ["\${ENV}.env"]}\n  b: {image: y}\n`;
    const one = hash({ 'compose.yaml': text, '.env': 'ENV=prod\n', 'prod.env': 'A=1\n', 'dev.env': 'A=1\n' });
    const two = hash({ 'compose.yaml': text, '.env': 'ENV=prod\n', 'prod.env': 'A=2\n', 'dev.env': 'A=1\n' });
    const three = hash({
      'compose.yaml': text,
      '.env': 'ENV=prod\n',
      'prod.env': 'A=1\n',
      'dev.env': 'A=2\n',
    });
    expect(two.services.get('a')?.hash).not.toBe(one.services.get('a')?.hash);
    expect(two.services.get('b')?.hash).toBe(one.services.get('b')?.hash);
    expect(three.services.get('a')?.hash).toBe(one.services.get('a')?.hash);
  });

  it('attributes a build context to the service that builds it', () => {
    const text = `services:\n  a: {build: ./app}\n  b: {build: {context: ., dockerfile: Dockerfile.b}}\n  c: {image: z}\n`;
    const one = hash({ 'compose.yaml': text, 'app/main.go': 'v1', 'Dockerfile.b': 'FROM x' });
    const two = hash({ 'compose.yaml': text, 'app/main.go': 'v2', 'Dockerfile.b': 'FROM x' });
    expect(two.services.get('a')?.hash).not.toBe(one.services.get('a')?.hash);
    expect(two.services.get('b')?.hash).not.toBe(one.services.get('b')?.hash);
    expect(two.services.get('c')?.hash).toBe(one.services.get('c')?.hash);
  });

  it('changes with the file mode', () => {
    const text = `services:\n  a: {image: x, volumes: ["./run.sh:/run.sh"]}\n`;
    const composeFiles = [{ path: 'compose.yaml', content: encoder.encode(text) }];
    const at = (mode: string) =>
      hashStack({
        id: 's',
        composeFiles,
        files: new Map([
          ['compose.yaml', { mode: '100644', sha256: sha256Hex(text) }],
          ['run.sh', { mode, sha256: sha256Hex('echo') }],
        ]),
      });
    expect(at('100755').services.get('a')?.hash).not.toBe(at('100644').services.get('a')?.hash);
  });
});

describe('hashStack: override, profiles, flags, project', () => {
  it('merges compose.override.yaml over the main file', () => {
    const main = 'services:\n  web: {image: "nginx:1", ports: ["80:80"]}\n';
    const merged = hash({
      'compose.yaml': main,
      'compose.override.yaml': 'services:\n  web: {image: "nginx:2"}\n',
    });
    const equivalent = hash({ 'compose.yaml': 'services:\n  web: {image: "nginx:2", ports: ["80:80"]}\n' });
    expect(merged.document).toEqual(equivalent.document);
    expect(merged.services.get('web')?.hash).toBe(equivalent.services.get('web')?.hash);
  });

  it('leaves services with profiles out of the map but in the stack hash', () => {
    const text = (tag: string) =>
      `services:\n  web: {image: x}\n  debug: {image: "y:${tag}", profiles: [debug]}\n`;
    const one = hash({ 'compose.yaml': text('1') });
    expect([...one.services.keys()]).toEqual(['web']);
    expect(hash({ 'compose.yaml': text('2') }).composeHash).not.toBe(one.composeHash);
  });

  it('reads oneShot and healthcheck', () => {
    const result = hash({
      'compose.yaml': `services:
  migrate: {image: x, restart: "no"}
  plain: {image: x}
  always: {image: x, restart: always}
  checked: {image: x, healthcheck: {test: ["CMD", "true"]}}
  disabled: {image: x, healthcheck: {disable: true}}
  none: {image: x, healthcheck: {test: ["NONE"]}}
`,
    });
    const flags = Object.fromEntries(
      [...result.services].map(([name, s]) => [name, [s.oneShot, s.healthcheck]]),
    );
    expect(flags).toEqual({
      migrate: [true, false],
      plain: [false, false],
      always: [false, false],
      checked: [false, true],
      disabled: [false, false],
      none: [false, false],
    });
  });

  it('reads replicas from deploy.replicas or scale, and leaves services scaled to 0 out', () => {
    const result = hash({
      'compose.yaml': `services:
  plain: {image: x}
  three: {image: x, deploy: {replicas: 3}}
  scaled: {image: x, scale: 2}
  quoted: {image: x, deploy: {replicas: "2"}}
  templated: {image: x, deploy: {replicas: "\${N:-2}"}}
  off: {image: x, deploy: {replicas: 0}}
  off2: {image: x, scale: 0}
  global: {image: x, deploy: {mode: global, replicas: 3}}
  capped: {image: x, deploy: {replicas: 3, placement: {max_replicas_per_node: 1}}}
`,
    });
    expect(Object.fromEntries([...result.services].map(([name, s]) => [name, s.replicas]))).toEqual({
      plain: 1,
      three: 3,
      scaled: 2,
      quoted: 2,
      templated: 2,
      global: 1,
      capped: null,
    });
  });

  it('marks the services that have a build: key, a path or a mapping (an override may add one)', () => {
    const result = hash({
      'compose.yaml': `services:
  plain: {image: x}
  path: {build: ./app}
  mapping: {image: x, build: {context: ., dockerfile: Dockerfile.web}}
  nulled: {image: x, build: null}
  added: {image: x}
`,
      'compose.override.yaml': 'services:\n  added: {build: ./added}\n',
    });
    expect(Object.fromEntries([...result.services].map(([name, s]) => [name, s.build]))).toEqual({
      plain: false,
      path: true,
      mapping: true,
      nulled: false,
      added: true,
    });
  });

  it('names a missing included file, and the file that includes it', () => {
    expect(() => hash({ 'compose.yaml': 'include: [db.yaml]\nservices:\n  web: {image: x}\n' })).toThrow(
      /^compose\.yaml: `db\.yaml` does not exist in the stack directory/,
    );
  });

  it('takes the project from name: or derives it from the id', () => {
    const one = 'services: {a: {image: x}}\n';
    expect(hash({ 'compose.yaml': `name: shop\n${one}` }).project).toBe('shop');
    expect(hash({ 'compose.yaml': `name: \${P}\n${one}`, '.env': 'P=shop2\n' }).project).toBe('shop2');
    expect(hash({ 'compose.yaml': one }, 'Apps/Web.1').project).toBe('apps_web_1');
    expect(() => hash({ 'compose.yaml': `name: Shop\n${one}` })).toThrow(ComposeFileError);
    expect(hash({ 'compose.yaml': one }, '_x').project).toBe('x');
    expect(hash({ 'compose.yaml': one }, '-infra').project).toBe('infra');
    expect(() => hash({ 'compose.yaml': one }, '__')).toThrow(/set a top-level `name`/);
    expect(() => hash({ 'compose.yaml': 'services: {}\n' })).toThrow(/no services/);
  });

  it('names the override file in its errors', () => {
    expect(() =>
      hash({ 'compose.yaml': 'services: {a: {image: x}}\n', 'compose.override.yaml': 'services: [\n' }),
    ).toThrow(/^compose\.override\.yaml, line \d+: invalid YAML/);
  });
});
