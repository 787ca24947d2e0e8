/**
 * Fixtures of the differential test: per case a base project (the files of one stack directory)
 * and named mutations of it. Each mutation says what compose does about it (`compose`), checked
 * against compose itself, so a fixture that does not test what its name says fails loudly.
 *
 * `compose` tokens: `web` recreated (its config hash or resolved environment changed), `+web`
 * created, `-web` removed, `web*` unchanged for compose but changed by stackd's addition (a file
 * the service reads, or the definition of a top-level resource it uses, changed).
 */
import type { Files } from './harness.js';

export type Rule =
  | 'service edits'
  | 'equivalent spellings'
  | 'override discovery'
  | 'include'
  | 'extends'
  | '!reset / !override'
  | 'multi-document'
  | 'override merges'
  | 'COMPOSE_PROFILES / COMPOSE_FILE'
  | 'interpolation (.env)'
  | 'top-level sections'
  | 'referenced files'
  | 'unreferenced files'
  | 'hash exclusions';

export interface Mutation {
  readonly name: string;
  /** The rule the mutation exercises, when not its case's. */
  readonly rule?: Rule;
  /** `[path, from, to]`: replace the one occurrence of `from` in the file (it must be there). */
  readonly replace?: readonly (readonly [string, string, string])[];
  /** Files written (a string) or deleted (null) after the replacements. */
  readonly patch?: Readonly<Record<string, string | null>>;
  /** What compose does (see the module comment), in service-name order. */
  readonly compose: readonly string[];
}

export interface FidelityCase {
  readonly name: string;
  readonly rule: Rule;
  readonly files: Files;
  readonly mutations: readonly Mutation[];
}

/** Strip the indentation of the first line from every line, and the leading newline. */
function yaml(text: string): string {
  const body = text.replace(/^\n/, '');
  const indent = /^ */.exec(body)?.[0].length ?? 0;
  return body
    .split('\n')
    .map((line) => line.slice(Math.min(indent, /^ */.exec(line)?.[0].length ?? 0)))
    .join('\n')
    .replace(/[ \t]+$/, '');
}

/** The project after `mutation`. */
export function applyMutation(files: Files, mutation: Mutation): Files {
  const out = new Map(Object.entries(files));
  for (const [path, from, to] of mutation.replace ?? []) {
    const text = out.get(path);
    if (text === undefined) throw new Error(`${mutation.name}: no file ${path} to edit`);
    const at = text.indexOf(from);
    if (at === -1 || text.indexOf(from, at + 1) !== -1) {
      throw new Error(`${mutation.name}: \`${from}\` must occur exactly once in ${path}`);
    }
    out.set(path, text.slice(0, at) + to + text.slice(at + from.length));
  }
  for (const [path, content] of Object.entries(mutation.patch ?? {})) {
    if (content === null) {
      if (!out.delete(path)) throw new Error(`${mutation.name}: no file ${path} to delete`);
    } else out.set(path, content);
  }
  return Object.fromEntries(out);
}

const README = '# The stack\n\nNotes for people; no service reads this file.\n';

const SHOP = yaml(`
  # The shop: one web front, an API, a database.
  services:
    web:
      image: nginx:1.25
      environment:
        MODE: production
        WORKERS: 4
        DEBUG: "false"
      ports:
        - "8080:80"
      depends_on:
        - api
    api:
      image: example/api:2.1
      environment:
        - DB_HOST=db
        - POOL=10
      ports:
        - target: 9000
          published: "9000"
    db:
      image: postgres:16
      command: ["postgres", "-c", "max_connections=50"]
`);

const SHOP_REFORMATTED = yaml(`
  services:
      db: {command: [postgres, -c, max_connections=50], image: "postgres:16"}   # reordered
      api:
          ports: [{published: "9000", target: 9000}]
          environment: [DB_HOST=db, POOL=10]
          image: 'example/api:2.1'
      web:
          depends_on: [api]
          ports: ['8080:80']
          environment: {DEBUG: 'false', WORKERS: 4, MODE: production}
          image: nginx:1.25
`);

const services: FidelityCase = {
  name: 'services',
  rule: 'service edits',
  files: { 'compose.yaml': SHOP, 'README.md': README },
  mutations: [
    {
      name: 'web-environment',
      replace: [['compose.yaml', 'MODE: production', 'MODE: staging']],
      compose: ['web'],
    },
    { name: 'web-image', replace: [['compose.yaml', 'nginx:1.25', 'nginx:1.27']], compose: ['web'] },
    {
      name: 'web-ports',
      replace: [['compose.yaml', '- "8080:80"', '- "8080:80"\n      - "8443:443"']],
      compose: ['web'],
    },
    { name: 'api-environment', replace: [['compose.yaml', 'POOL=10', 'POOL=20']], compose: ['api'] },
    {
      name: 'service-added',
      replace: [['compose.yaml', '  db:\n', '  cache:\n    image: redis:7\n  db:\n']],
      compose: ['+cache'],
    },
    {
      name: 'service-removed',
      replace: [
        [
          'compose.yaml',
          '  db:\n    image: postgres:16\n    command: ["postgres", "-c", "max_connections=50"]\n',
          '',
        ],
      ],
      compose: ['-db'],
    },
    {
      name: 'environment-map-to-list',
      rule: 'equivalent spellings',
      replace: [
        [
          'compose.yaml',
          '      MODE: production\n      WORKERS: 4\n      DEBUG: "false"\n',
          '      - MODE=production\n      - WORKERS=4\n      - DEBUG=false\n',
        ],
      ],
      compose: [],
    },
    {
      name: 'environment-list-to-map',
      rule: 'equivalent spellings',
      replace: [
        ['compose.yaml', '      - DB_HOST=db\n      - POOL=10\n', '      DB_HOST: db\n      POOL: 10\n'],
      ],
      compose: [],
    },
    {
      name: 'number-quoted',
      rule: 'equivalent spellings',
      replace: [['compose.yaml', 'WORKERS: 4', 'WORKERS: "4"']],
      compose: [],
    },
    {
      name: 'depends-on-short-to-long',
      rule: 'equivalent spellings',
      replace: [
        [
          'compose.yaml',
          '    depends_on:\n      - api\n',
          '    depends_on:\n      api:\n        condition: service_started\n',
        ],
      ],
      compose: [],
    },
    {
      name: 'ports-short-to-long',
      rule: 'equivalent spellings',
      replace: [
        [
          'compose.yaml',
          '      - "8080:80"\n',
          '      - target: 80\n        published: 8080\n        protocol: tcp\n',
        ],
      ],
      compose: [],
    },
    {
      name: 'ports-long-to-short',
      rule: 'equivalent spellings',
      replace: [['compose.yaml', '      - target: 9000\n        published: "9000"\n', '      - 9000:9000\n']],
      compose: [],
    },
    {
      name: 'reformatted',
      rule: 'equivalent spellings',
      patch: { 'compose.yaml': SHOP_REFORMATTED },
      compose: [],
    },
    {
      name: 'comment-added',
      rule: 'equivalent spellings',
      replace: [['compose.yaml', '  db:\n', '  # the database keeps its data in the container\n  db:\n']],
      compose: [],
    },
    {
      name: 'readme-edited',
      rule: 'unreferenced files',
      patch: { 'README.md': `${README}More.\n` },
      compose: [],
    },
  ],
};

const OVERRIDE_MAIN = yaml(`
  services:
    web:
      image: nginx:1.25
    worker:
      image: example/worker:1
`);
const OVERRIDE = yaml(`
  services:
    web:
      environment:
        LOG_LEVEL: debug
      ports:
        - "8080:80"
`);
const OVERRIDE_SIDECAR = `${OVERRIDE}  sidecar:\n    image: busybox\n`;

/** A main file and an override beside it, under the given names. */
function overrideCase(name: string, main: string, override: string): FidelityCase {
  return {
    name,
    rule: 'override discovery',
    files: { [main]: OVERRIDE_MAIN, [override]: OVERRIDE },
    mutations: [
      {
        name: 'override-environment',
        replace: [[override, 'LOG_LEVEL: debug', 'LOG_LEVEL: info']],
        compose: ['web'],
      },
      { name: 'override-adds-service', patch: { [override]: OVERRIDE_SIDECAR }, compose: ['+sidecar'] },
      { name: 'override-removed', patch: { [override]: null }, compose: ['web'] },
      { name: 'main-image', replace: [[main, 'example/worker:1', 'example/worker:2']], compose: ['worker'] },
    ],
  };
}

const overrideAppears: FidelityCase = {
  name: 'override-appears',
  rule: 'override discovery',
  files: { 'compose.yml': OVERRIDE_MAIN },
  mutations: [
    { name: 'compose-override-yml-added', patch: { 'compose.override.yml': OVERRIDE }, compose: ['web'] },
    { name: 'compose-override-yaml-added', patch: { 'compose.override.yaml': OVERRIDE }, compose: ['web'] },
    {
      name: 'docker-compose-override-yml-added',
      patch: { 'docker-compose.override.yml': OVERRIDE },
      compose: ['web'],
    },
    {
      name: 'other-yaml-added',
      rule: 'unreferenced files',
      patch: { 'web.override.yml': OVERRIDE },
      compose: [],
    },
  ],
};

const twoMainFiles: FidelityCase = {
  name: 'two-main-files',
  rule: 'override discovery',
  files: {
    'docker-compose.yml': OVERRIDE_MAIN,
    'docker-compose.yaml': OVERRIDE_MAIN.replace('nginx:1.25', 'nginx:1.25-alpine'),
  },
  mutations: [
    {
      name: 'yml-edited',
      replace: [['docker-compose.yml', 'example/worker:1', 'example/worker:2']],
      compose: ['worker'],
    },
    {
      name: 'yaml-edited',
      replace: [['docker-compose.yaml', 'example/worker:1', 'example/worker:2']],
      compose: [],
    },
  ],
};

const twoOverrides: FidelityCase = {
  name: 'two-override-files',
  rule: 'override discovery',
  files: {
    'compose.yaml': OVERRIDE_MAIN,
    'compose.override.yml': OVERRIDE,
    'compose.override.yaml': OVERRIDE.replace('debug', 'trace'),
  },
  mutations: [
    {
      name: 'yml-edited',
      replace: [['compose.override.yml', 'LOG_LEVEL: debug', 'LOG_LEVEL: info']],
      compose: ['web'],
    },
    {
      name: 'yaml-edited',
      replace: [['compose.override.yaml', 'LOG_LEVEL: trace', 'LOG_LEVEL: info']],
      compose: [],
    },
  ],
};

const include: FidelityCase = {
  name: 'include',
  rule: 'include',
  files: {
    'compose.yaml': yaml(`
      include:
        - db/compose.yaml
        - path: cache/compose.yaml
          project_directory: cache
          env_file: cache/cache.env
      services:
        web:
          image: nginx:1.25
          environment:
            UPSTREAM: db
          depends_on: [db]
    `),
    'db/compose.yaml': yaml(`
      services:
        db:
          image: postgres:16
          env_file: db.env
          volumes:
            - ./init.sql:/docker-entrypoint-initdb.d/init.sql:ro
    `),
    'db/db.env': 'POSTGRES_DB=shop\n',
    'db/init.sql': 'CREATE TABLE t (id int);\n',
    'cache/compose.yaml': yaml(`
      services:
        cache:
          image: redis:\${REDIS_TAG}
    `),
    'cache/cache.env': 'REDIS_TAG=7\n',
  },
  mutations: [
    { name: 'included-image', replace: [['db/compose.yaml', 'postgres:16', 'postgres:17']], compose: ['db'] },
    { name: 'included-env-file', replace: [['db/db.env', 'shop', 'store']], compose: ['db'] },
    {
      name: 'included-bind-file',
      rule: 'referenced files',
      patch: { 'db/init.sql': 'CREATE TABLE u (id int);\n' },
      compose: ['db*'],
    },
    { name: 'include-env-file-variable', replace: [['cache/cache.env', '7', '7.2']], compose: ['cache'] },
    {
      name: 'main-service-edited',
      replace: [['compose.yaml', 'UPSTREAM: db', 'UPSTREAM: db:5432']],
      compose: ['web'],
    },
    {
      name: 'short-to-long-form',
      rule: 'equivalent spellings',
      replace: [['compose.yaml', '  - db/compose.yaml\n', '  - path: db/compose.yaml\n']],
      compose: [],
    },
    {
      name: 'included-dir-readme',
      rule: 'unreferenced files',
      patch: { 'db/README.md': README },
      compose: [],
    },
  ],
};

const extendsSameFile: FidelityCase = {
  name: 'extends-same-file',
  rule: 'extends',
  files: {
    'compose.yaml': yaml(`
      services:
        base:
          image: example/app:3
          environment:
            LOG_FORMAT: json
          deploy:
            replicas: 0
        web:
          extends: base
          command: ["serve"]
          deploy:
            replicas: 1
        worker:
          extends:
            service: base
          command: ["work"]
          deploy:
            replicas: 1
    `),
  },
  mutations: [
    {
      name: 'template-environment',
      replace: [['compose.yaml', 'LOG_FORMAT: json', 'LOG_FORMAT: text']],
      compose: ['web', 'worker'],
    },
    {
      name: 'template-image',
      replace: [['compose.yaml', 'example/app:3', 'example/app:4']],
      compose: ['web', 'worker'],
    },
    {
      name: 'web-command',
      replace: [['compose.yaml', '["serve"]', '["serve", "--verbose"]']],
      compose: ['web'],
    },
    {
      name: 'extends-short-to-long',
      rule: 'equivalent spellings',
      replace: [['compose.yaml', 'extends: base', 'extends:\n      service: base']],
      compose: [],
    },
  ],
};

const extendsProfiles: FidelityCase = {
  name: 'extends-template-profile',
  rule: 'extends',
  files: {
    'compose.yaml': yaml(`
      services:
        template:
          image: example/app:3
          profiles: [template]
          environment:
            LOG_FORMAT: json
        web:
          extends: template
          profiles: !reset []
        cron:
          image: busybox
    `),
  },
  mutations: [
    {
      name: 'template-environment',
      replace: [['compose.yaml', 'LOG_FORMAT: json', 'LOG_FORMAT: text']],
      compose: ['web'],
    },
    {
      name: 'cron-image',
      replace: [['compose.yaml', 'image: busybox', 'image: busybox:1.36']],
      compose: ['cron'],
    },
  ],
};

const extendsOtherFile: FidelityCase = {
  name: 'extends-other-file',
  rule: 'extends',
  files: {
    'compose.yaml': yaml(`
      services:
        web:
          extends:
            file: common/services.yaml
            service: webapp
          environment:
            SITE: shop
        other:
          image: busybox
    `),
    'common/services.yaml': yaml(`
      services:
        webapp:
          image: nginx:1.25
          env_file: web.env
          volumes:
            - ./site.conf:/etc/nginx/conf.d/site.conf:ro
    `),
    'common/web.env': 'TZ=UTC\n',
    'common/site.conf': 'server { listen 80; }\n',
  },
  mutations: [
    { name: 'base-image', replace: [['common/services.yaml', 'nginx:1.25', 'nginx:1.27']], compose: ['web'] },
    { name: 'base-env-file', replace: [['common/web.env', 'UTC', 'Europe/Berlin']], compose: ['web'] },
    {
      name: 'base-bind-file',
      rule: 'referenced files',
      patch: { 'common/site.conf': 'server { listen 8080; }\n' },
      compose: ['web*'],
    },
    {
      name: 'base-comment',
      rule: 'equivalent spellings',
      replace: [['common/services.yaml', 'services:\n', '# shared definitions\nservices:\n']],
      compose: [],
    },
    { name: 'own-environment', replace: [['compose.yaml', 'SITE: shop', 'SITE: store']], compose: ['web'] },
    {
      name: 'base-dir-readme',
      rule: 'unreferenced files',
      patch: { 'common/README.md': README },
      compose: [],
    },
  ],
};

const resetOverride: FidelityCase = {
  name: 'reset-override',
  rule: '!reset / !override',
  files: {
    'compose.yaml': yaml(`
      services:
        web:
          image: nginx:1.25
          ports: ["8080:80"]
          environment:
            A: "1"
            B: "2"
        db:
          image: postgres:16
    `),
    'compose.override.yaml': yaml(`
      services:
        web:
          ports: !reset []
          environment: !override
            C: "3"
    `),
  },
  mutations: [
    { name: 'override-value', replace: [['compose.override.yaml', 'C: "3"', 'C: "4"']], compose: ['web'] },
    { name: 'reset-ports-edited', replace: [['compose.yaml', '"8080:80"', '"8081:80"']], compose: [] },
    { name: 'overridden-environment-edited', replace: [['compose.yaml', 'A: "1"', 'A: "9"']], compose: [] },
    { name: 'db-image', replace: [['compose.yaml', 'postgres:16', 'postgres:17']], compose: ['db'] },
  ],
};

const multiDocument: FidelityCase = {
  name: 'multi-document',
  rule: 'multi-document',
  files: {
    'compose.yaml': yaml(`
      services:
        web:
          image: nginx:1.25
          environment:
            A: "1"
      ---
      services:
        worker:
          image: busybox
          command: [sleep, "3600"]
    `),
  },
  mutations: [
    {
      name: 'second-document-edited',
      replace: [['compose.yaml', 'image: busybox', 'image: busybox:1.36']],
      compose: ['worker'],
    },
    { name: 'first-document-edited', replace: [['compose.yaml', 'A: "1"', 'A: "2"']], compose: ['web'] },
  ],
};

const mergeForms: FidelityCase = {
  name: 'merge-forms',
  rule: 'override merges',
  files: {
    'compose.yaml': yaml(`
      services:
        app:
          image: example/app:1
          depends_on: [db]
          networks: [front]
          dns: 1.1.1.1
          env_file: app.env
          build: ./app
        db:
          image: postgres:16
          networks:
            back: {}
        cache:
          image: redis:7
          networks: [back]
      networks:
        front: {}
        back: {}
    `),
    'compose.override.yaml': yaml(`
      services:
        app:
          depends_on:
            cache:
              condition: service_started
          networks:
            back:
              aliases: [api]
          dns: [8.8.8.8]
          env_file:
            - path: local.env
              required: false
          build:
            dockerfile: Dockerfile.prod
    `),
    'app.env': 'MODE=prod\n',
    'local.env': 'REGION=eu\n',
    'app/Dockerfile': 'FROM busybox\n',
    'app/Dockerfile.prod': 'FROM busybox\nRUN true\n',
  },
  mutations: [
    {
      name: 'main-forms-rewritten',
      rule: 'equivalent spellings',
      replace: [
        ['compose.yaml', 'depends_on: [db]', 'depends_on:\n      db:\n        condition: service_started'],
        ['compose.yaml', 'dns: 1.1.1.1', 'dns: [1.1.1.1]'],
        ['compose.yaml', 'env_file: app.env', 'env_file:\n      - path: app.env'],
        ['compose.yaml', 'build: ./app', 'build:\n      context: ./app'],
      ],
      compose: [],
    },
    {
      name: 'override-forms-rewritten',
      rule: 'equivalent spellings',
      replace: [
        [
          'compose.override.yaml',
          '    depends_on:\n      cache:\n        condition: service_started\n',
          '    depends_on: [cache]\n',
        ],
        ['compose.override.yaml', 'dns: [8.8.8.8]', 'dns: 8.8.8.8'],
      ],
      compose: [],
    },
    { name: 'override-dns', replace: [['compose.override.yaml', '8.8.8.8', '9.9.9.9']], compose: ['app'] },
    {
      name: 'override-alias',
      replace: [['compose.override.yaml', 'aliases: [api]', 'aliases: [api, backend]']],
      compose: ['app'],
    },
    { name: 'override-env-file-content', replace: [['local.env', 'eu', 'us']], compose: ['app'] },
    {
      name: 'override-dockerfile-content',
      rule: 'referenced files',
      replace: [['app/Dockerfile.prod', 'RUN true', 'RUN false']],
      compose: ['app*'],
    },
    {
      name: 'override-dropped-dependency',
      replace: [['compose.override.yaml', 'cache:', 'db:']],
      compose: ['app'],
    },
  ],
};

const profilesInEnv: FidelityCase = {
  name: 'compose-profiles-in-env',
  rule: 'COMPOSE_PROFILES / COMPOSE_FILE',
  files: {
    'compose.yaml': yaml(`
      services:
        web:
          image: nginx:1.25
        debug:
          image: busybox
          profiles: [debug]
        tools:
          image: example/tools:1
          profiles: [tools]
    `),
    '.env': 'COMPOSE_PROFILES=debug\n',
  },
  mutations: [
    {
      name: 'active-profile-service-edited',
      replace: [['compose.yaml', 'image: busybox', 'image: busybox:1.36']],
      compose: ['debug'],
    },
    {
      name: 'inactive-profile-service-edited',
      replace: [['compose.yaml', 'example/tools:1', 'example/tools:2']],
      compose: [],
    },
    { name: 'profile-activated', patch: { '.env': 'COMPOSE_PROFILES=debug,tools\n' }, compose: ['+tools'] },
    { name: 'profiles-unset', patch: { '.env': '# no profiles\n' }, compose: ['-debug'] },
    { name: 'web-image', replace: [['compose.yaml', 'nginx:1.25', 'nginx:1.27']], compose: ['web'] },
  ],
};

const composeFileInEnv: FidelityCase = {
  name: 'compose-file-in-env',
  rule: 'COMPOSE_PROFILES / COMPOSE_FILE',
  files: {
    'compose.yaml': yaml(`
      services:
        web:
          image: nginx:1.25
    `),
    'monitoring.yaml': yaml(`
      services:
        web:
          environment:
            METRICS: "on"
        metrics:
          image: example/exporter:1
    `),
    '.env': 'COMPOSE_FILE=compose.yaml:monitoring.yaml\n',
  },
  mutations: [
    {
      name: 'listed-file-edits-web',
      replace: [['monitoring.yaml', 'METRICS: "on"', 'METRICS: "off"']],
      compose: ['web'],
    },
    {
      name: 'listed-file-edits-metrics',
      replace: [['monitoring.yaml', 'exporter:1', 'exporter:2']],
      compose: ['metrics'],
    },
    { name: 'compose-file-unset', patch: { '.env': '# defaults\n' }, compose: ['-metrics', 'web'] },
    { name: 'main-file-edited', replace: [['compose.yaml', 'nginx:1.25', 'nginx:1.27']], compose: ['web'] },
  ],
};

const INTERPOLATED = yaml(`
  services:
    app:
      image: example/app:\${APP_TAG}
      volumes:
        - \${DATA}/app:/config
    proxy:
      image: nginx:\${PROXY_TAG:-1.25}
      ports:
        - "\${HTTP_PORT}:80"
    worker:
      image: example/worker:1
      environment:
        THREADS: \${THREADS}
`);
const DOTENV = 'DATA=/srv\nAPP_TAG=3.1\nHTTP_PORT=8080\nTHREADS=4\n';

const interpolation: FidelityCase = {
  name: 'interpolation',
  rule: 'interpolation (.env)',
  files: { 'compose.yaml': INTERPOLATED, '.env': DOTENV, 'README.md': README },
  mutations: [
    {
      name: 'readme-edited',
      rule: 'unreferenced files',
      patch: { 'README.md': `${README}More.\n` },
      compose: [],
    },
    { name: 'app-tag', replace: [['.env', 'APP_TAG=3.1', 'APP_TAG=3.2']], compose: ['app'] },
    { name: 'threads', replace: [['.env', 'THREADS=4', 'THREADS=8']], compose: ['worker'] },
    { name: 'http-port', replace: [['.env', 'HTTP_PORT=8080', 'HTTP_PORT=8081']], compose: ['proxy'] },
    { name: 'data-dir', replace: [['.env', 'DATA=/srv', 'DATA=/opt']], compose: ['app'] },
    { name: 'unused-variable-added', patch: { '.env': `${DOTENV}UNUSED=1\n` }, compose: [] },
    { name: 'comment-added', patch: { '.env': `# deployment settings\n${DOTENV}` }, compose: [] },
    {
      name: 'value-quoted',
      rule: 'equivalent spellings',
      replace: [['.env', 'THREADS=4', 'THREADS="4"']],
      compose: [],
    },
    { name: 'default-made-explicit', patch: { '.env': `${DOTENV}PROXY_TAG=1.25\n` }, compose: [] },
  ],
};

const topLevel: FidelityCase = {
  name: 'top-level',
  rule: 'top-level sections',
  files: {
    'compose.yaml': yaml(`
      x-logging: &logging
        driver: json-file
        options:
          max-size: 10m
      x-job: &job
        restart: unless-stopped
        stop_grace_period: 5s
      services:
        web:
          image: nginx:1.25
          logging: *logging
          networks: [front]
          volumes:
            - static:/srv/static
          configs:
            - source: site
              target: /etc/nginx/conf.d/site.conf
        db:
          image: postgres:16
          logging: *logging
          networks: [back]
          volumes:
            - pgdata:/var/lib/postgresql/data
          secrets: [db_password]
        cron:
          <<: *job
          image: busybox
          command: [crond, -f]
      networks:
        front: {}
        back: {}
      volumes:
        static: {}
        pgdata: {}
      configs:
        site:
          file: ./site.conf
      secrets:
        db_password:
          file: ./db_password.txt
    `),
    'site.conf': 'server { listen 80; }\n',
    'db_password.txt': 'hunter2\n',
  },
  mutations: [
    {
      name: 'network-for-new-service',
      replace: [
        ['compose.yaml', '  back: {}\n', '  back: {}\n  probe_net: {}\n'],
        ['compose.yaml', '  cron:\n', '  probe:\n    image: busybox\n    networks: [probe_net]\n  cron:\n'],
      ],
      compose: ['+probe'],
    },
    {
      name: 'used-network-definition',
      replace: [
        [
          'compose.yaml',
          '  front: {}\n',
          '  front:\n    driver_opts:\n      com.docker.network.driver.mtu: "1400"\n',
        ],
      ],
      compose: ['web*'],
    },
    {
      name: 'used-volume-definition',
      replace: [['compose.yaml', '  pgdata: {}\n', '  pgdata:\n    labels:\n      backup: daily\n']],
      compose: ['db*'],
    },
    {
      name: 'unused-network-added',
      replace: [['compose.yaml', '  back: {}\n', '  back: {}\n  spare: {}\n']],
      compose: [],
    },
    {
      name: 'unused-volume-added',
      replace: [['compose.yaml', '  pgdata: {}\n', '  pgdata: {}\n  scratch: {}\n']],
      compose: [],
    },
    {
      name: 'extension-value-used',
      replace: [['compose.yaml', 'max-size: 10m', 'max-size: 20m']],
      compose: ['db', 'web'],
    },
    {
      name: 'unused-extension-added',
      replace: [['compose.yaml', 'services:\n', 'x-notes: owned by the shop team\nservices:\n']],
      compose: [],
    },
    {
      name: 'config-file-moved',
      replace: [['compose.yaml', 'file: ./site.conf', 'file: ./conf/site.conf']],
      patch: { 'site.conf': null, 'conf/site.conf': 'server { listen 80; }\n' },
      compose: ['web*'],
    },
    {
      name: 'config-content',
      rule: 'referenced files',
      patch: { 'site.conf': 'server { listen 8080; }\n' },
      compose: ['web*'],
    },
    {
      name: 'used-secret-definition',
      replace: [['compose.yaml', 'file: ./db_password.txt', 'file: ./secrets/db_password.txt']],
      patch: { 'db_password.txt': null, 'secrets/db_password.txt': 'hunter2\n' },
      compose: ['db*'],
    },
    {
      name: 'merge-key-extension-value',
      replace: [['compose.yaml', 'stop_grace_period: 5s', 'stop_grace_period: 10s']],
      compose: ['cron'],
    },
    {
      name: 'merge-key-inlined',
      rule: 'equivalent spellings',
      replace: [
        ['compose.yaml', '    <<: *job\n', '    restart: unless-stopped\n    stop_grace_period: 5s\n'],
      ],
      compose: [],
    },
    {
      name: 'secret-content',
      rule: 'referenced files',
      patch: { 'db_password.txt': 'correct horse\n' },
      compose: ['db*'],
    },
    {
      name: 'sections-reformatted',
      rule: 'equivalent spellings',
      replace: [
        ['compose.yaml', 'networks:\n  front: {}\n  back: {}\n', 'networks: {back: {}, front: {}}\n'],
        [
          'compose.yaml',
          'secrets:\n  db_password:\n    file: ./db_password.txt\n',
          'secrets: {db_password: {file: "./db_password.txt"}}\n',
        ],
      ],
      compose: [],
    },
  ],
};

const referencedFiles: FidelityCase = {
  name: 'referenced-files',
  rule: 'referenced files',
  files: {
    'compose.yaml': yaml(`
      services:
        app:
          image: example/app:1
          env_file: app.env
        proxy:
          image: nginx:1.25
          volumes:
            - ./nginx.conf:/etc/nginx/nginx.conf:ro
            - ./html:/usr/share/nginx/html:ro
        api:
          image: example/api:dev
          build:
            context: ./api
        auth:
          image: example/auth:1
          configs: [auth_config]
          secrets: [auth_key]
        static:
          image: busybox
      configs:
        auth_config:
          file: ./auth/config.yaml
      secrets:
        auth_key:
          file: ./auth/key.pem
    `),
    'app.env': 'MODE=prod\n',
    'nginx.conf': 'events {}\n',
    'html/index.html': '<h1>shop</h1>\n',
    'api/Dockerfile': 'FROM golang:1.22\nCOPY main.go .\n',
    'api/main.go': 'package main\n\nfunc main() {}\n',
    'auth/config.yaml': 'issuer: shop\n',
    'auth/key.pem': 'not a real key\n',
    'README.md': README,
  },
  mutations: [
    { name: 'env-file-variable', replace: [['app.env', 'MODE=prod', 'MODE=dev']], compose: ['app'] },
    { name: 'env-file-comment', patch: { 'app.env': '# settings\nMODE=prod\n' }, compose: ['app*'] },
    {
      name: 'bind-mounted-file',
      patch: { 'nginx.conf': 'events { worker_connections 512; }\n' },
      compose: ['proxy*'],
    },
    { name: 'bind-mounted-dir-file', patch: { 'html/index.html': '<h1>store</h1>\n' }, compose: ['proxy*'] },
    {
      name: 'bind-mounted-dir-new-file',
      patch: { 'html/about.html': '<p>about</p>\n' },
      compose: ['proxy*'],
    },
    {
      name: 'build-context-file',
      patch: { 'api/main.go': 'package main\n\nfunc main() { println() }\n' },
      compose: ['api*'],
    },
    { name: 'dockerfile', replace: [['api/Dockerfile', 'golang:1.22', 'golang:1.23']], compose: ['api*'] },
    { name: 'config-file', patch: { 'auth/config.yaml': 'issuer: store\n' }, compose: ['auth*'] },
    { name: 'secret-file', patch: { 'auth/key.pem': 'still not a real key\n' }, compose: ['auth*'] },
    {
      name: 'readme-edited',
      rule: 'unreferenced files',
      patch: { 'README.md': `${README}More.\n` },
      compose: [],
    },
    {
      name: 'docs-file-added',
      rule: 'unreferenced files',
      patch: { 'docs/notes.md': 'notes\n' },
      compose: [],
    },
  ],
};

const hashExclusions: FidelityCase = {
  name: 'hash-exclusions',
  rule: 'hash exclusions',
  files: {
    'compose.yaml': yaml(`
      services:
        web:
          image: nginx:1.25
          deploy:
            replicas: 2
        worker:
          image: example/worker:1
          build: ./worker
          pull_policy: missing
        batch:
          image: busybox
          scale: 2
    `),
    'worker/Dockerfile': 'FROM busybox\n',
  },
  mutations: [
    { name: 'replicas', replace: [['compose.yaml', 'replicas: 2', 'replicas: 3']], compose: [] },
    { name: 'scale', replace: [['compose.yaml', 'scale: 2', 'scale: 3']], compose: [] },
    {
      name: 'pull-policy',
      replace: [['compose.yaml', 'pull_policy: missing', 'pull_policy: always']],
      compose: [],
    },
    {
      name: 'build-args',
      replace: [
        [
          'compose.yaml',
          'build: ./worker',
          'build:\n      context: ./worker\n      args:\n        VERSION: "1"',
        ],
      ],
      compose: [],
    },
    {
      name: 'labels',
      replace: [
        [
          'compose.yaml',
          '  batch:\n    image: busybox\n',
          '  batch:\n    image: busybox\n    labels: {team: shop}\n',
        ],
      ],
      compose: ['batch'],
    },
    {
      name: 'depends-on',
      replace: [['compose.yaml', 'pull_policy: missing', 'pull_policy: missing\n    depends_on: [web]']],
      compose: ['worker'],
    },
  ],
};

export const CASES: readonly FidelityCase[] = [
  services,
  overrideCase('override-docker-compose-yml', 'docker-compose.yml', 'docker-compose.override.yml'),
  overrideCase('override-docker-compose-yaml', 'docker-compose.yaml', 'docker-compose.override.yaml'),
  overrideCase('override-compose-yaml', 'compose.yaml', 'compose.override.yaml'),
  overrideCase('override-compose-yml', 'compose.yml', 'compose.override.yml'),
  overrideCase('override-mixed-names', 'compose.yaml', 'docker-compose.override.yml'),
  overrideAppears,
  twoMainFiles,
  twoOverrides,
  include,
  extendsSameFile,
  extendsProfiles,
  extendsOtherFile,
  resetOverride,
  multiDocument,
  mergeForms,
  profilesInEnv,
  composeFileInEnv,
  interpolation,
  topLevel,
  referencedFiles,
  hashExclusions,
];
