import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { CONFIG_FLAGS, ConfigError, loadConfig, type LoadOptions } from './index.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stackd-config-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

/** Loads with an explicit environment, so the test runner's own never leaks in. */
function load(options: LoadOptions = {}) {
  return loadConfig({ env: {}, ...options });
}

/** The ConfigError `fn` throws (fails the test if it throws nothing or something else). */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

describe('defaults (DESIGN.md §5)', () => {
  it('match the table', () => {
    const config = load();
    expect(config.source.url).toBe('');
    expect(config.source.branch).toBe('main');
    expect(config.source.path).toBe('');
    expect(config.source.pollInterval).toBe(60_000);
    expect(config.source.auth).toEqual({ username: '', token: '', sshKeyFile: '', knownHostsFile: '' });
    expect(config.scope.include).toEqual(['**']);
    expect(config.scope.exclude).toEqual([]);
    expect(config.reconcile.enabled).toBe(true);
    expect(config.reconcile.prune).toBe(false);
    expect(config.reconcile.allowEmpty).toBe(false);
    expect(config.reconcile.selfHeal).toBe(true);
    expect(config.reconcile.timeout).toBe(180_000);
    expect(config.reconcile.resyncInterval).toBe(300_000);
    expect(config.compose.command).toBe('auto');
    expect(config.instance).toBe(hostname());
    expect(config.dataDir).toBe('/var/lib/stackd');
    expect(config.server.listen).toBe('127.0.0.1:8700');
    expect(config.server.token).toBe('');
    expect(config.webhook.secret).toBe('');
    expect(config.log.level).toBe('info');
    expect(config.log.format).toBe('auto');
  });

  it('are not shared between loads', () => {
    const a = load({ env: { STACKD_SOURCE_BRANCH: 'a' } });
    const b = load();
    expect(a.source.branch).toBe('a');
    expect(b.source.branch).toBe('main');
  });
});

describe('environment', () => {
  it('sets every key of the table', async () => {
    const ageKey = join(dir, 'age.key');
    await writeFile(ageKey, `# public key: age1…\nAGE-SECRET-KEY-1${'Q'.repeat(58)}\n`);
    const config = load({
      env: {
        STACKD_SOURCE_URL: 'https://git.example.com/org/stacks.git',
        STACKD_SOURCE_BRANCH: 'prod',
        STACKD_SOURCE_PATH: 'stacks',
        STACKD_SOURCE_WEB_URL: 'https://git.example.com/org/stacks',
        STACKD_SOURCE_POLL_INTERVAL: '0',
        STACKD_SOURCE_USERNAME: 'bot',
        STACKD_SOURCE_TOKEN: 'tok-123',
        STACKD_SOURCE_MAX_FILE_SIZE: '1MiB',
        STACKD_SOURCE_MAX_STACK_SIZE: '1.5GB',
        STACKD_SOURCE_MAX_STACK_FILES: '500',
        STACKD_SCOPE_INCLUDE: 'apps/*, infra/** ,',
        STACKD_SCOPE_EXCLUDE: 'apps/legacy',
        STACKD_RECONCILE_ENABLED: 'false',
        STACKD_RECONCILE_PRUNE: 'true',
        STACKD_RECONCILE_ALLOW_EMPTY: 'yes',
        STACKD_RECONCILE_SELF_HEAL: 'off',
        STACKD_RECONCILE_TIMEOUT: '10m',
        STACKD_RECONCILE_MIN_READY: '10s',
        STACKD_RECONCILE_CRASH_LOOP_LIMIT: '5',
        STACKD_RECONCILE_ROLLBACK: 'true',
        STACKD_RECONCILE_RESYNC_INTERVAL: '1h',
        STACKD_COMPOSE_COMMAND: 'docker-compose',
        // An empty file of registry logins: none.
        STACKD_REGISTRY_AUTH_FILE: '/dev/null',
        STACKD_INSTANCE: 'host-a',
        STACKD_DATA_DIR: '/srv/stackd',
        STACKD_LISTEN: '[::1]:9000',
        STACKD_API_TOKEN: 'api-456-0123456789abcdef',
        STACKD_SERVER_ALLOWED_HOSTS: 'stackd.example.com, 192.0.2.7',
        STACKD_SERVER_ALLOWED_ORIGINS: 'https://grafana.example.com',
        STACKD_WEBHOOK_SECRET: 'hook-789-0123456789abcdef',
        STACKD_WEBHOOK_GITLAB_TOKEN: 'gitlab-0123456789abcdef',
        STACKD_WEBHOOK_REGISTRY_TOKEN: 'registry-0123456789abcdef',
        STACKD_LOG_LEVEL: 'debug',
        STACKD_LOG_FORMAT: 'text',
        STACKD_SECRETS_AGE_KEY_FILE: ageKey,
        STACKD_IMAGES_UPDATE: 'notify',
        STACKD_IMAGES_POLL_INTERVAL: '30m',
        STACKD_NOTIFY_TARGETS:
          '[{"name":"ops","type":"ntfy","url":"https://ntfy.example.com/ops","secretFile":"/etc/stackd/ntfy"}]',
        STACKD_NOTIFY_EVENTS: 'failed, recovered',
        STACKD_NOTIFY_REPEAT_INTERVAL: '12h',
        STACKD_NOTIFY_BATCH_WINDOW: '10s',
        STACKD_SCM_COMMIT_STATUS: 'gitea',
        STACKD_SCM_URL: 'https://git.example.com',
        STACKD_SCM_REPOSITORY: 'org/stacks',
        STACKD_SCM_TOKEN: 'scm-token-0123',
        STACKD_SCM_TARGET_URL: 'https://stackd.example.com/',
      },
    });
    expect(config).toEqual({
      source: {
        url: 'https://git.example.com/org/stacks.git',
        branch: 'prod',
        path: 'stacks',
        pollInterval: 0,
        fetchTimeout: 60_000,
        maxFileSize: 1024 * 1024,
        maxStackSize: 1_500_000_000,
        maxStackFiles: 500,
        webUrl: 'https://git.example.com/org/stacks',
        auth: { username: 'bot', token: 'tok-123', sshKeyFile: '', knownHostsFile: '' },
      },
      scope: { include: ['apps/*', 'infra/**'], exclude: ['apps/legacy'] },
      reconcile: {
        enabled: false,
        prune: true,
        allowEmpty: true,
        selfHeal: false,
        timeout: 600_000,
        minReady: 10_000,
        crashLoopLimit: 5,
        rollback: true,
        resyncInterval: 3_600_000,
      },
      compose: { command: 'docker-compose' },
      registry: { authFile: '/dev/null' },
      instance: 'host-a',
      dataDir: '/srv/stackd',
      server: {
        listen: '[::1]:9000',
        token: 'api-456-0123456789abcdef',
        allowedHosts: ['stackd.example.com', '192.0.2.7'],
        allowedOrigins: ['https://grafana.example.com'],
      },
      webhook: {
        secret: 'hook-789-0123456789abcdef',
        gitlabToken: 'gitlab-0123456789abcdef',
        registryToken: 'registry-0123456789abcdef',
      },
      secrets: { ageKeyFile: ageKey },
      images: { update: 'notify', pollInterval: 1_800_000 },
      notify: {
        targets: [
          { name: 'ops', type: 'ntfy', url: 'https://ntfy.example.com/ops', secretFile: '/etc/stackd/ntfy' },
        ],
        events: ['failed', 'recovered'],
        repeatInterval: 12 * 3_600_000,
        batchWindow: 10_000,
      },
      scm: {
        commitStatus: 'gitea',
        url: 'https://git.example.com',
        repository: 'org/stacks',
        token: 'scm-token-0123',
        targetUrl: 'https://stackd.example.com/',
      },
      log: { level: 'debug', format: 'text' },
    });
  });

  it('notify.targets: each problem named by index and key, no URL or token quoted', () => {
    const bad = (targets: unknown): string => {
      try {
        load({ env: { STACKD_NOTIFY_TARGETS: JSON.stringify(targets) } });
      } catch (error) {
        return (error as Error).message;
      }
      return 'accepted';
    };
    const url = 'https://hooks.example.com/services/T000/B000/secret-path-xyz';
    expect(bad([{ name: 'chat', type: 'teams', url }])).toMatch(
      /notify\.targets.*targets\[0\]\.type: expected one of webhook, ntfy, gotify, slack, discord/,
    );
    expect(bad([{ name: 'chat', type: 'slack', url, secretFile: '/x', credential: 'y' }])).toMatch(
      /at most one of secretFile and credential/,
    );
    expect(
      bad([
        { name: 'a', type: 'slack', url },
        { name: 'a', type: 'discord', url },
      ]),
    ).toMatch(/targets\[1\]\.name: a is the name of another target/);
    expect(bad([{ name: 'a', type: 'slack' }])).toMatch(/exactly one of url and urlFile/);
    expect(bad([{ name: 'a', type: 'slack', url: 'ftp://x' }])).toMatch(
      /targets\[0\]\.url: expected an http/,
    );
    expect(bad([{ name: 'a', type: 'slack', url, evnets: ['failed'] }])).toMatch(/unknown key "evnets"/);
    expect(bad([{ name: 'a', type: 'slack', url, events: ['failure'] }])).toMatch(/unknown event "failure"/);
    for (const t of [[{ name: 'chat', type: 'teams', url }], [{ name: 'a', type: 'slack', url, events: [] }]])
      expect(bad(t)).not.toContain('secret-path-xyz');
    expect(() => load({ env: { STACKD_NOTIFY_TARGETS: `{"url":"${url}"` } })).toThrow(/notify\.targets/);
    expect(() => load({ env: { STACKD_NOTIFY_EVENTS: 'failed,oops' } })).toThrow(
      /notify\.events.*unknown event "oops"/,
    );
    expect(() => load({ env: { STACKD_SCM_COMMIT_STATUS: 'bitbucket' } })).toThrow(/scm\.commitStatus/);
    expect(() => load({ env: { STACKD_SCM_REPOSITORY: 'just-a-name' } })).toThrow(/scm\.repository/);
    expect(load().notify).toEqual({
      targets: [],
      events: ['failed', 'recovered', 'rolled_back', 'removed'],
      repeatInterval: 24 * 3_600_000,
      batchWindow: 5_000,
    });
  });

  it('images.update: anything but off, digest or notify is refused naming the key', () => {
    expect(() => load({ env: { STACKD_IMAGES_UPDATE: 'latest' } })).toThrow(/images\.update/);
    expect(() => load({ env: { STACKD_IMAGES_POLL_INTERVAL: 'often' } })).toThrow(/images\.pollInterval/);
    expect(load().images).toEqual({ update: 'off', pollInterval: 6 * 3_600_000 });
  });

  it('secrets.ageKeyFile: an unreadable file or a line that is no age identity is refused, never quoted', async () => {
    const missing = join(dir, 'missing.key');
    expect(() => load({ env: { STACKD_SECRETS_AGE_KEY_FILE: missing } })).toThrow(
      /secrets\.ageKeyFile.*cannot read .*missing\.key.*ENOENT.*age-keygen/,
    );
    const pasted = join(dir, 'pasted.key');
    await writeFile(pasted, '# created: today\nAGE-SECRET-KEY-1-not-really-a-key-secret-part\n');
    let message = '';
    try {
      load({ env: { STACKD_SECRETS_AGE_KEY_FILE: pasted } });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/line 2 is not an age identity/);
    expect(message).not.toContain('secret-part');
    const empty = join(dir, 'empty.key');
    await writeFile(empty, '\n');
    expect(load({ env: { STACKD_SECRETS_AGE_KEY_FILE: empty } }).secrets.ageKeyFile).toBe(empty);
  });

  it.each([
    ['60s', 60_000],
    ['3m', 180_000],
    ['1h30m', 5_400_000],
    ['0', 0],
    ['250ms', 250],
  ])('reads the duration %j as %d ms', (text, ms) => {
    expect(load({ env: { STACKD_SOURCE_POLL_INTERVAL: text } }).source.pollInterval).toBe(ms);
    if (ms > 0) {
      const env = { STACKD_RECONCILE_TIMEOUT: text, STACKD_RECONCILE_MIN_READY: '0' };
      expect(load({ env }).reconcile.timeout).toBe(ms);
    }
  });

  it('refuses a readiness wait as long as the apply timeout, naming both', () => {
    expect(() => load({ env: { STACKD_RECONCILE_TIMEOUT: '5s' } })).toThrow(
      'reconcile.minReady (STACKD_RECONCILE_MIN_READY): 5000 ms must be shorter than reconcile.timeout (5000 ms)',
    );
    expect(
      load({ env: { STACKD_RECONCILE_TIMEOUT: '5s', STACKD_RECONCILE_MIN_READY: '2s' } }).reconcile.minReady,
    ).toBe(2000);
  });

  it.each([
    ['ftp://git.example.com/org/stacks', 'expected an http:// or https:// URL'],
    ['https://bot:secret-pass@git.example.com/org/stacks', 'expected a URL without credentials'],
  ])('source.webUrl %s is refused, naming the key and never echoing a credential', (value, why) => {
    const error = configError(() => load({ env: { STACKD_SOURCE_WEB_URL: value } }));
    expect(error.message).toContain(`source.webUrl (STACKD_SOURCE_WEB_URL): ${why}`);
    expect(error.message).not.toContain('secret-pass');
  });

  it.each(['STACKD_RECONCILE_TIMEOUT', 'STACKD_SOURCE_FETCH_TIMEOUT'])(
    'refuses a zero timeout in %s',
    (name) => {
      expect(() => load({ env: { [name]: '0' } })).toThrow(
        /timeout \(STACKD_[A-Z_]+\): expected a duration above 0/i,
      );
    },
  );

  it('makes a relative data directory absolute', () => {
    expect(load({ env: { STACKD_DATA_DIR: 'rel/data' } }).dataDir).toBe(`${process.cwd()}/rel/data`);
  });

  it.each([
    ['0', false],
    ['no', false],
    ['FALSE', false],
    ['1', true],
    ['on', true],
  ])('reads the boolean %j as %p (not every non-"false" string as true)', (text, value) => {
    expect(load({ env: { STACKD_RECONCILE_PRUNE: text } }).reconcile.prune).toBe(value);
  });

  it('reads scope lists as comma-separated globs', () => {
    const config = load({
      env: { STACKD_SCOPE_INCLUDE: 'apps/**,infra/db', STACKD_SCOPE_EXCLUDE: ' apps/old ' },
    });
    expect(config.scope.include).toEqual(['apps/**', 'infra/db']);
    expect(config.scope.exclude).toEqual(['apps/old']);
  });

  it('defaults to process.env', () => {
    const saved = process.env['STACKD_SOURCE_BRANCH'];
    process.env['STACKD_SOURCE_BRANCH'] = 'from-process-env';
    try {
      expect(loadConfig().source.branch).toBe('from-process-env');
    } finally {
      if (saved === undefined) delete process.env['STACKD_SOURCE_BRANCH'];
      else process.env['STACKD_SOURCE_BRANCH'] = saved;
    }
  });
});

describe('_FILE variables', () => {
  it.each([
    ['STACKD_SOURCE_TOKEN', (c: ReturnType<typeof load>) => c.source.auth.token],
    ['STACKD_API_TOKEN', (c: ReturnType<typeof load>) => c.server.token],
    ['STACKD_WEBHOOK_SECRET', (c: ReturnType<typeof load>) => c.webhook.secret],
    ['STACKD_WEBHOOK_GITLAB_TOKEN', (c: ReturnType<typeof load>) => c.webhook.gitlabToken],
    ['STACKD_WEBHOOK_REGISTRY_TOKEN', (c: ReturnType<typeof load>) => c.webhook.registryToken],
  ])('%s_FILE reads the value from a file, trailing newline stripped', async (name, pick) => {
    const path = await file('secret', 'from-the-file-0123456789\n');
    expect(pick(load({ env: { [`${name}_FILE`]: path } }))).toBe('from-the-file-0123456789');
    const crlf = await file('secret-crlf', 'windows-file-0123456789\r\n');
    expect(pick(load({ env: { [`${name}_FILE`]: crlf } }))).toBe('windows-file-0123456789');
    const bare = await file('secret-bare', 'no-newline-0123456789');
    expect(pick(load({ env: { [`${name}_FILE`]: bare } }))).toBe('no-newline-0123456789');
  });

  it('keeps inner newlines and strips only one trailing newline', async () => {
    const path = await file('secret', 'a-0123456789\nb-0123456789\n\n');
    expect(load({ env: { STACKD_API_TOKEN_FILE: path } }).server.token).toBe('a-0123456789\nb-0123456789\n');
  });

  it('overrides the config file', async () => {
    const secret = await file('secret', 'from-file-var-0123456789\n');
    const configFile = await file('c.yaml', 'webhook:\n  secret: from-config-file\n');
    const config = load({ configFile, env: { STACKD_WEBHOOK_SECRET_FILE: secret } });
    expect(config.webhook.secret).toBe('from-file-var-0123456789');
  });

  it.each(['STACKD_SOURCE_TOKEN', 'STACKD_API_TOKEN', 'STACKD_WEBHOOK_SECRET'])(
    'an unreadable %s_FILE is a ConfigError naming the variable',
    (name) => {
      const missing = join(dir, 'no-such-file');
      const error = configError(() => load({ env: { [`${name}_FILE`]: missing } }));
      expect(error.message).toContain(`${name}_FILE`);
      expect(error.message).toContain(missing);
      expect(error.message).toContain('ENOENT');
      expect(error.exitCode).toBe(2);
    },
  );

  it('a directory is unreadable too', () => {
    const error = configError(() => load({ env: { STACKD_API_TOKEN_FILE: dir } }));
    expect(error.message).toContain('STACKD_API_TOKEN_FILE');
    expect(error.message).toContain('EISDIR');
  });

  it('an empty _FILE variable is ignored', () => {
    expect(
      load({ env: { STACKD_API_TOKEN_FILE: '', STACKD_API_TOKEN: 'direct-0123456789ab' } }).server.token,
    ).toBe('direct-0123456789ab');
  });
});

describe('precedence: defaults < --config file < environment < flags', () => {
  const yaml = `
source:
  url: https://git.example.com/from-file.git
  branch: from-file
  pollInterval: 2m
server:
  listen: 0.0.0.0:8001
log:
  level: warn
reconcile:
  prune: true
`;
  const json = JSON.stringify({
    source: { url: 'https://git.example.com/from-file.git', branch: 'from-file', pollInterval: '2m' },
    server: { listen: '0.0.0.0:8001' },
    log: { level: 'warn' },
    reconcile: { prune: true },
  });

  it.each([
    ['YAML', 'stackd.yaml', yaml],
    ['YAML (.yml)', 'stackd.yml', yaml],
    ['JSON', 'stackd.json', json],
  ])('%s file over defaults', async (_kind, name, content) => {
    const configFile = await file(name, content);
    const config = load({ configFile });
    expect(config.source.url).toBe('https://git.example.com/from-file.git');
    expect(config.source.branch).toBe('from-file');
    expect(config.source.pollInterval).toBe(120_000);
    expect(config.server.listen).toBe('0.0.0.0:8001');
    expect(config.log.level).toBe('warn');
    expect(config.reconcile.prune).toBe(true);
    // Untouched keys keep their defaults.
    expect(config.reconcile.timeout).toBe(180_000);
    expect(config.log.format).toBe('auto');
  });

  it('environment over the file, flags over both', async () => {
    const configFile = await file('stackd.yaml', yaml);
    const env = {
      STACKD_SOURCE_BRANCH: 'from-env',
      STACKD_SOURCE_POLL_INTERVAL: '30s',
      STACKD_LISTEN: '127.0.0.1:8002',
      STACKD_LOG_LEVEL: 'error',
      STACKD_RECONCILE_PRUNE: 'false',
    };
    const fromEnv = load({ configFile, env });
    expect(fromEnv.source.branch).toBe('from-env');
    expect(fromEnv.source.pollInterval).toBe(30_000);
    expect(fromEnv.server.listen).toBe('127.0.0.1:8002');
    expect(fromEnv.log.level).toBe('error');
    expect(fromEnv.reconcile.prune).toBe(false);
    expect(fromEnv.source.url).toBe('https://git.example.com/from-file.git');

    const fromFlags = load({
      configFile,
      env,
      flags: { branch: 'from-flag', 'poll-interval': '5s', listen: '127.0.0.1:8003', prune: true },
    });
    expect(fromFlags.source.branch).toBe('from-flag');
    expect(fromFlags.source.pollInterval).toBe(5000);
    expect(fromFlags.server.listen).toBe('127.0.0.1:8003');
    expect(fromFlags.reconcile.prune).toBe(true);
    expect(fromFlags.log.level).toBe('error');
  });

  it('every flag of the schema', () => {
    const config = load({
      flags: {
        'source-url': '/srv/repo',
        branch: 'b',
        'source-path': 'p',
        'poll-interval': '0',
        prune: true,
        instance: 'i-1',
        'data-dir': '/d',
        listen: '[::]:1',
        'log-level': 'debug',
        'log-format': 'text',
      },
    });
    expect(config.source).toMatchObject({ url: '/srv/repo', branch: 'b', path: 'p', pollInterval: 0 });
    expect(config.reconcile.prune).toBe(true);
    expect(config.instance).toBe('i-1');
    expect(config.dataDir).toBe('/d');
    expect(config.server.listen).toBe('[::]:1');
    expect(config.log).toEqual({ level: 'debug', format: 'text' });
  });

  it('flags are taken as text, never as numbers', () => {
    const config = load({ flags: { branch: '1e3', 'source-path': '1.50', instance: '007' } });
    expect(config.source.branch).toBe('1e3');
    expect(config.source.path).toBe('1.50');
    expect(config.instance).toBe('007');
  });

  it('boolean flags override the environment both ways', () => {
    expect(load({ env: { STACKD_RECONCILE_PRUNE: 'true' }, flags: { prune: false } }).reconcile.prune).toBe(
      false,
    );
    expect(load({ env: { STACKD_RECONCILE_PRUNE: 'false' }, flags: { prune: true } }).reconcile.prune).toBe(
      true,
    );
  });

  it('ignores flags that are not configuration flags', () => {
    expect(load({ flags: { once: true, output: 'json', config: 'x.yaml' } }).source.branch).toBe('main');
  });

  it('CONFIG_FLAGS is every schema key with an arg, typed by its format, and --config', () => {
    expect(CONFIG_FLAGS).toEqual({
      config: { type: 'string' },
      'source-url': { type: 'string' },
      branch: { type: 'string' },
      'source-path': { type: 'string' },
      'poll-interval': { type: 'string' },
      prune: { type: 'boolean' },
      instance: { type: 'string' },
      'data-dir': { type: 'string' },
      listen: { type: 'string' },
      'log-level': { type: 'string' },
      'log-format': { type: 'string' },
    });
  });

  it('a bare number for a duration in a file means seconds, as in the environment', async () => {
    const configFile = await file(
      'c.yaml',
      'source:\n  pollInterval: 90\nreconcile:\n  timeout: 5\n  minReady: 1\n',
    );
    const config = load({ configFile });
    expect(config.source.pollInterval).toBe(90_000);
    expect(config.reconcile.timeout).toBe(5000);
    expect(load({ env: { STACKD_SOURCE_POLL_INTERVAL: '90' } }).source.pollInterval).toBe(90_000);
  });

  it('an empty file or an empty section is no configuration', async () => {
    expect(load({ configFile: await file('empty.yaml', '') }).source.branch).toBe('main');
    expect(load({ configFile: await file('comments.yaml', '# nothing\n') }).source.branch).toBe('main');
    expect(load({ configFile: await file('section.yaml', 'source:\n  # url: x\n') }).source.branch).toBe(
      'main',
    );
  });

  it('a glob list in a file may be a YAML list or a comma string', async () => {
    const list = await file('l.yaml', 'scope:\n  include: [apps/*, db]\n  exclude: "apps/old, apps/tmp"\n');
    expect(load({ configFile: list }).scope).toEqual({
      include: ['apps/*', 'db'],
      exclude: ['apps/old', 'apps/tmp'],
    });
  });
});

describe('bad values name the key, the value and what is expected', () => {
  it('STACKD_RECONCILE_TIMEOUT=banana', () => {
    const error = configError(() => load({ env: { STACKD_RECONCILE_TIMEOUT: 'banana' } }));
    expect(error.name).toBe('ConfigError');
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain('reconcile.timeout');
    expect(error.message).toContain('banana');
    expect(error.message).toMatch(/expected a duration such as 60s/);
    expect(error.message).toContain('STACKD_RECONCILE_TIMEOUT');
  });

  it('an empty duration says so', () => {
    const error = configError(() => load({ env: { STACKD_RECONCILE_TIMEOUT: '' } }));
    expect(error.message).toContain('reconcile.timeout');
    expect(error.message).toContain('empty');
  });

  it('a duration longer than a timer can wait', () => {
    const error = configError(() => load({ env: { STACKD_RECONCILE_RESYNC_INTERVAL: '1000h' } }));
    expect(error.message).toContain('reconcile.resyncInterval');
    expect(error.message).toMatch(/at most/);
  });

  it('a bad flag names the flag', () => {
    const error = configError(() => load({ flags: { 'poll-interval': 'soon' } }));
    expect(error.message).toContain('source.pollInterval');
    expect(error.message).toContain('--poll-interval');
    expect(error.message).toContain('soon');
  });

  it.each(['banana', '127.0.0.1', '127.0.0.1:70000', 'localhost:http'])('STACKD_LISTEN=%s', (value) => {
    const error = configError(() => load({ env: { STACKD_LISTEN: value } }));
    expect(error.message).toContain('server.listen');
    expect(error.message).toContain(JSON.stringify(value));
    expect(error.message).toContain('expected HOST:PORT');
  });

  it('a bad log level', () => {
    const error = configError(() => load({ env: { STACKD_LOG_LEVEL: 'verbose' } }));
    expect(error.message).toContain('log.level');
    expect(error.message).toContain('verbose');
    expect(error.message).toMatch(/error.*warn.*info.*debug/);
  });

  it.each(['auto', 'json', 'text'])('log format %s is accepted', (format) => {
    expect(load({ env: { STACKD_LOG_FORMAT: format } }).log.format).toBe(format);
  });

  it('a bad log format', () => {
    const error = configError(() => load({ env: { STACKD_LOG_FORMAT: 'xml' } }));
    expect(error.message).toContain('log.format');
    expect(error.message).toContain('xml');
    expect(error.message).toMatch(/auto.*json.*text/);
  });

  it('a bad boolean', () => {
    const error = configError(() => load({ env: { STACKD_RECONCILE_PRUNE: 'banana' } }));
    expect(error.message).toContain('reconcile.prune');
    expect(error.message).toContain('banana');
    expect(error.message).toContain('expected true or false');
  });

  it('a bad instance name', () => {
    const error = configError(() => load({ env: { STACKD_INSTANCE: 'has space' } }));
    expect(error.message).toContain('instance');
    expect(error.message).toContain('has space');
    expect(error.message).toContain('expected 1-63');
  });

  it.each([
    ['..', 'a path with a `..` part'],
    ['../stacks', 'a path with a `..` part'],
    ['a/../../b', 'a path with a `..` part'],
    ['a/../b', 'a path with a `..` part'],
    ['stacks/..', 'a path with a `..` part'],
    ['/srv/stacks', 'an absolute path'],
    ['/', 'an absolute path'],
  ])('a source.path leaving the repository (%j) names the key and the value', (value, got) => {
    const error = configError(() => load({ env: { STACKD_SOURCE_PATH: value } }));
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe(
      `invalid configuration: source.path (STACKD_SOURCE_PATH): expected a directory inside the repository, relative to its root, such as stacks or apps/prod ("" for the root), got ${got}: value was ${JSON.stringify(value)}`,
    );
  });

  it('a source.path leaving the repository is refused from a flag and a file too', async () => {
    expect(configError(() => load({ flags: { 'source-path': '../x' } })).message).toContain(
      'source.path (--source-path): expected a directory inside the repository',
    );
    const configFile = await file('c.yaml', 'source:\n  path: /etc\n');
    const error = configError(() => load({ configFile }));
    expect(error.message).toContain('source.path: expected a directory inside the repository');
    expect(error.message).toContain('value was "/etc"');
  });

  it.each(['stacks', 'apps/prod', './stacks/', 'stacks/', '', '.', 'a..b', '...'])(
    'a source.path inside the repository (%j) is accepted as written',
    (value) => {
      expect(load({ env: { STACKD_SOURCE_PATH: value } }).source.path).toBe(value);
    },
  );

  it.each(['', ' ', '\t \n'])('an empty compose.command (%j) names the key and the value', (value) => {
    const error = configError(() => load({ env: { STACKD_COMPOSE_COMMAND: value } }));
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe(
      `invalid configuration: compose.command (STACKD_COMPOSE_COMMAND): expected auto or a command line such as "docker compose" or /usr/local/bin/docker-compose, got an empty value${value === '' ? '' : `: value was ${JSON.stringify(value)}`}`,
    );
  });

  it('an empty compose.command in a file is refused; a command line is accepted', async () => {
    const configFile = await file('c.yaml', "compose:\n  command: ''\n");
    expect(configError(() => load({ configFile })).message).toContain('compose.command: expected auto');
    expect(load({ env: { STACKD_COMPOSE_COMMAND: 'docker-compose' } }).compose.command).toBe(
      'docker-compose',
    );
  });
  it('an unsupported source URL, credentials not echoed', () => {
    const error = configError(() =>
      load({ env: { STACKD_SOURCE_URL: 'ftp://bob:hunter2@example.com/r.git' } }),
    );
    expect(error.message).toContain('source.url');
    expect(error.message).toContain('ftp://***@example.com/r.git');
    expect(error.message).not.toContain('hunter2');
    expect(error.message).toContain('expected an http(s)://');
  });

  it('an SSH scp-like remote is not taken for a local path: it needs the SSH keys', () => {
    const error = configError(() =>
      load({ env: { STACKD_SOURCE_URL: 'git@github.com:org/stacks.git' }, requireSource: true }),
    );
    expect(error.message).toContain(
      'source.auth.sshKeyFile (STACKD_SOURCE_SSH_KEY_FILE): required for the SSH source',
    );
  });

  it.each([
    ['STACKD_SOURCE_MAX_FILE_SIZE', 'source.maxFileSize', 'lots', /expected a size above 0 such as 16MiB/],
    ['STACKD_SOURCE_MAX_STACK_SIZE', 'source.maxStackSize', '0', /expected a size above 0/],
    ['STACKD_SOURCE_MAX_STACK_FILES', 'source.maxStackFiles', '-3', /expected a whole number from 1 and up/],
    [
      'STACKD_SERVER_ALLOWED_HOSTS',
      'server.allowedHosts',
      'evil.example:80',
      /without a port, got `evil\.example:80`/,
    ],
    [
      'STACKD_SERVER_ALLOWED_ORIGINS',
      'server.allowedOrigins',
      'https://a.example/path',
      /expected origins such as/,
    ],
  ])('%s=%s', (name, key, value, expected) => {
    const error = configError(() => load({ env: { [name]: value } }));
    expect(error.message).toContain(key);
    expect(error.message).toContain(name);
    expect(error.message).toMatch(expected);
    expect(error.exitCode).toBe(2);
  });

  it.each([
    'STACKD_API_TOKEN',
    'STACKD_WEBHOOK_SECRET',
    'STACKD_WEBHOOK_GITLAB_TOKEN',
    'STACKD_WEBHOOK_REGISTRY_TOKEN',
  ])('a %s shorter than 16 characters is refused without echoing it', (name) => {
    const error = configError(() => load({ env: { [name]: 'short-secret' } }));
    expect(error.message).toContain(name);
    expect(error.message).toContain('expected at least 16 characters, got 12');
    expect(error.message).not.toContain('short-secret');
  });

  it('several bad values are all reported', () => {
    const error = configError(() =>
      load({ env: { STACKD_RECONCILE_TIMEOUT: 'banana', STACKD_LOG_LEVEL: 'loud' } }),
    );
    expect(error.message).toContain('reconcile.timeout');
    expect(error.message).toContain('log.level');
  });

  it('a bad value in the file', async () => {
    const configFile = await file('c.yaml', 'reconcile:\n  timeout: forever\n');
    const error = configError(() => load({ configFile }));
    expect(error.message).toContain('reconcile.timeout');
    expect(error.message).toContain('forever');
  });

  it('a wrong type for a secret does not echo it', async () => {
    const configFile = await file('c.yaml', 'server:\n  token: 987654321\n');
    const error = configError(() => load({ configFile }));
    expect(error.message).toContain('server.token');
    expect(error.message).not.toContain('987654321');
  });

  it('an unknown key in the config file', async () => {
    const configFile = await file('c.yaml', 'source:\n  url: /srv/repo\n  branh: main\n');
    const error = configError(() => load({ configFile }));
    expect(error.message).toContain(configFile);
    expect(error.message).toContain('unknown key source.branh');
    expect(error.message).toMatch(/expected one of source\.url, source\.branch/);
  });

  it('an unknown top-level key in a JSON file', async () => {
    const configFile = await file('c.json', '{"sources": {"url": "/srv/repo"}}');
    const error = configError(() => load({ configFile }));
    expect(error.message).toContain('unknown key sources');
    expect(error.message).toContain('source, scope, reconcile');
  });

  it('an unknown key does not echo its value (it may be a misspelt secret)', async () => {
    const configFile = await file('c.yaml', 'webhook:\n  secrte: hunter22-secret\n');
    const error = configError(() => load({ configFile }));
    expect(error.message).toContain('webhook.secrte');
    expect(error.message).not.toContain('hunter22');
  });

  it.each([
    ['a list', 'l.yaml', '- source\n- url\n'],
    ['a string', 's.yaml', 'just text\n'],
    ['a number', 'n.json', '42'],
    ['a list', 'l.json', '[]'],
  ])('a config file that is %s, not a mapping', async (kind, name, content) => {
    const configFile = await file(name, content);
    const error = configError(() => load({ configFile }));
    expect(error.message).toContain(configFile);
    expect(error.message).toContain('expected a mapping');
    expect(error.message).toContain(`got ${kind}`);
  });

  it('a section that is not a mapping', async () => {
    const configFile = await file('c.yaml', 'source: https://example.com/r.git\n');
    const error = configError(() => load({ configFile }));
    expect(error.message).toContain('source: expected a mapping of source.url');
    expect(error.message).toContain('got a string');
  });

  it('an unreadable config file', async () => {
    const missing = join(dir, 'nope.yaml');
    let error = configError(() => load({ configFile: missing }));
    expect(error.message).toContain('--config');
    expect(error.message).toContain(missing);
    expect(error.message).toContain('ENOENT');
    const sub = join(dir, 'sub');
    await mkdir(sub);
    error = configError(() => load({ configFile: sub }));
    expect(error.message).toContain('EISDIR');
  });

  it('a config file that is not YAML or JSON', async () => {
    const badYaml = await file('bad.yaml', 'source:\n  url: [unclosed\n');
    let error = configError(() => load({ configFile: badYaml }));
    expect(error.message).toContain(badYaml);
    const twoDocs = await file('two.yaml', 'source: {}\n---\nscope: {}\n');
    error = configError(() => load({ configFile: twoDocs }));
    expect(error.message).toContain('expected one YAML document, got 2');
    const badJson = await file('bad.json', '{"source": ');
    error = configError(() => load({ configFile: badJson }));
    expect(error.message).toContain(badJson);
  });
});

describe('requireSource', () => {
  it('fails without source.url, naming the key and how to set it', () => {
    const error = configError(() => load({ requireSource: true }));
    expect(error.message).toContain('source.url');
    expect(error.message).toContain('STACKD_SOURCE_URL');
  });

  it.each([
    'https://git.example.com/r.git',
    'http://127.0.0.1:3000/r.git',
    'file:///srv/r',
    '/srv/r',
    'relative/r',
  ])('accepts %s', (url) => {
    expect(load({ requireSource: true, env: { STACKD_SOURCE_URL: url } }).source.url).toBe(url);
  });

  it('is off by default', () => {
    expect(load().source.url).toBe('');
  });
});
