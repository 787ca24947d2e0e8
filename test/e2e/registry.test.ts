/**
 * Issue 13, item 4 — private registries, with real components: Debian's docker-registry on
 * loopback with htpasswd auth, the real engine and compose v2, `stackd sync --once` (the built
 * CLI). A stack whose image is only in that registry deploys with the logins of
 * `registry.authFile` (the config.json `docker login` wrote, copied); with a wrong password it is
 * `failed` naming the image and the denial, held (cause pull_denied) until the logins change, and
 * the password is in no log line, API answer, state.json, file of dataDir but compose's private
 * config.json, nor in the argv of any process while it applies; an image the registry does not
 * have is `failed` naming it (image_missing); the other stacks stay synced throughout.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { IMAGE_V1, RUN_ID, docker } from '../helpers/docker.js';
import { ProcessSampler, filesUnder } from '../helpers/processes.js';
import { loginFile, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { Harness, composeFile, stackOf } from '../helpers/stackd.js';

/** The JSON log lines of one event. */
function events(stderr: string, event: string): Record<string, unknown>[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l['event'] === event);
}

const service = (image: string, env = 'one'): string =>
  `services:\n  app:\n    image: ${image}\n    command: ["sleep", "3600"]\n    stop_grace_period: 1s\n    environment:\n      MODE: ${env}\n`;

describe('private registry (registry.authFile)', () => {
  let h: Harness;
  let registry: TestRegistry;
  let image: string;
  let missing: string;
  let goodFile: string;
  let wrongFile: string;
  const wrongPassword = `wrong-pw-${RUN_ID}`;

  beforeAll(async () => {
    registry = await startRegistry({ password: `right-pw-${RUN_ID}` });
    image = await registry.push(IMAGE_V1, `stackd-${RUN_ID}/app:1`);
    missing = `${registry.host}/stackd-${RUN_ID}/nothere:1`;
    h = await Harness.create('registry');
    h.env['STACKD_LOG_LEVEL'] = 'debug';
    h.env['STACKD_COMPOSE_COMMAND'] = 'docker compose';
    // As an operator would: the config.json a `docker login` wrote, copied.
    goodFile = join(h.root, 'registry-auth.json');
    await writeFile(goodFile, await loginFile(registry), { mode: 0o600 });
    // Written by hand, in YAML, credentials spelled out.
    wrongFile = join(h.root, 'registry-auth.yaml');
    await writeFile(
      wrongFile,
      `auths:\n  "${registry.host}":\n    username: ${registry.username}\n    password: "${wrongPassword}"\n`,
      { mode: 0o600 },
    );
  });

  afterAll(async () => {
    await h.cleanup();
    await registry.close();
  });

  /** Every secret that must not leak: both passwords and their base64 logins. */
  const secrets = (): string[] => [
    registry.password,
    wrongPassword,
    Buffer.from(`${registry.username}:${registry.password}`).toString('base64'),
    Buffer.from(`${registry.username}:${wrongPassword}`).toString('base64'),
  ];

  /** No secret in `texts` (named by `where`). */
  const noSecrets = (where: string, texts: readonly string[]): void => {
    for (const secret of secrets()) {
      const hits = texts.filter((t) => t.includes(secret)).map((t) => t.slice(0, 200));
      expect([where, secret, hits]).toEqual([where, secret, []]);
    }
  };

  /** No secret in any file of dataDir but docker/config.json. */
  const noSecretsInDataDir = async (): Promise<void> => {
    const files = (await filesUnder(h.dataDir)).filter((f) => f !== join(h.dataDir, 'docker', 'config.json'));
    expect(files.length).toBeGreaterThan(3);
    const texts = await Promise.all(files.map((f) => readFile(f, 'latin1')));
    noSecrets('dataDir', texts);
  };

  it('deploys a stack whose image is only in the registry with the logins of the auth file', async () => {
    await h.commit({
      'priv/compose.yaml': service(image),
      'plain/compose.yaml': composeFile({ web: {} }),
    });
    // Without logins the registry refuses: the image is not on the host.
    await expect(docker('image', 'inspect', image)).rejects.toThrow();
    const started = Date.now();
    const r = await h.sync({ STACKD_REGISTRY_AUTH_FILE: goodFile });
    const ms = Date.now() - started;
    if (r.exitCode !== 0) throw new Error(`sync --once exited ${r.exitCode}:\n${r.stderr}`);
    expect(stackOf(r.response, h.id('priv'))).toMatchObject({ status: 'synced', message: '' });
    expect(stackOf(r.response, h.id('plain')).status).toBe('synced');
    const containers = await h.containers('priv');
    expect(containers.map((c) => [c.Image, c.State])).toEqual([[image, 'running']]);
    // The private config.json: 0600 in a 0700 directory, the registry's login; stackd's list
    // of what it wrote names the registry only.
    const dockerDir = join(h.dataDir, 'docker');
    expect((await stat(dockerDir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dockerDir, 'config.json'))).mode & 0o777).toBe(0o600);
    const written = JSON.parse(await readFile(join(dockerDir, 'config.json'), 'utf8')) as {
      auths: Record<string, { auth: string }>;
    };
    expect(Object.keys(written.auths)).toEqual([registry.host]);
    expect(JSON.parse(await readFile(join(dockerDir, 'stackd-registries.json'), 'utf8'))).toEqual({
      registries: [registry.host],
    });
    const lines = r.stderr.split('\n').filter((l) => l.includes('"registry.logins"'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(registry.host);
    noSecrets('sync output', [r.stderr, JSON.stringify(r.response)]);
    await noSecretsInDataDir();
    process.stdout.write(`registry e2e: first deploy with a pull took ${ms} ms\n`);
  });

  it('a wrong password fails that stack naming the image, held, and the password is nowhere', async () => {
    // The image must be pulled again: the local copy goes, and the stack changes.
    await docker('rmi', image);
    await h.commit({
      'priv/compose.yaml': service(image, 'two'),
      'plain/compose.yaml': composeFile({ web: {} }),
    });
    const sampler = new ProcessSampler(undefined, 5);
    const r = await h.sync({ STACKD_REGISTRY_AUTH_FILE: wrongFile });
    const argv = await sampler.stop();
    expect(r.exitCode).toBe(1);
    const priv = stackOf(r.response, h.id('priv'));
    expect(priv.status).toBe('failed');
    expect(priv.message).toContain(`pulling ${image} (service app) failed: ${registry.host} denied access`);
    expect(priv.message).toMatch(/unauthorized: authentication required/);
    expect(stackOf(r.response, h.id('plain')).status).toBe('synced');
    // The running container of the last good apply is left alone.
    expect((await h.containers('priv')).map((c) => c.State)).toEqual(['running']);
    const failure = events(r.stderr, 'reconcile.failure');
    expect(failure).toHaveLength(1);
    expect(failure[0]).toMatchObject({ stack: h.id('priv'), cause: 'pull_denied', retry: false });
    const state = await readFile(join(h.dataDir, 'state.json'), 'utf8');
    expect(JSON.parse(state).stacks[h.id('priv')].held).toMatchObject({ cause: 'pull_denied' });
    // The argv of every process seen while it ran: compose's among them, no password in any.
    const compose = argv.filter((a) => a.includes('compose') && a.includes(h.project('priv')));
    expect(compose.length).toBeGreaterThan(0);
    process.stdout.write(
      `registry e2e: ${argv.length} argv sampled during the apply, ${compose.length} of compose\n`,
    );
    noSecrets('argv', argv);
    noSecrets('sync output', [r.stderr, JSON.stringify(r.response)]);
    await noSecretsInDataDir();

    // Held at this stack hash while the logins stay the same…
    const again = await h.sync({ STACKD_REGISTRY_AUTH_FILE: wrongFile });
    expect(stackOf(again.response, h.id('priv')).status).toBe('failed');
    expect(events(again.stderr, 'reconcile.start').filter((l) => l['stack'] === h.id('priv'))).toEqual([]);
    // …and tried again when stackd starts with other logins: the fix is the credential.
    const fixed = await h.sync({ STACKD_REGISTRY_AUTH_FILE: goodFile });
    expect([fixed.exitCode, stackOf(fixed.response, h.id('priv')).status]).toEqual([0, 'synced']);
  });

  it('no logins at all: the registry asks for credentials, and the stack says so', async () => {
    await docker('rmi', '-f', image);
    await h.commit({
      'priv/compose.yaml': service(image, 'three'),
      'plain/compose.yaml': composeFile({ web: {} }),
    });
    // systemd's default credential: a lone newline. stackd's own login goes from config.json.
    const empty = join(h.root, 'empty');
    await writeFile(empty, '\n');
    const r = await h.sync({ STACKD_REGISTRY_AUTH_FILE: empty });
    expect(r.exitCode).toBe(1);
    const written = JSON.parse(await readFile(join(h.dataDir, 'docker', 'config.json'), 'utf8')) as {
      auths: Record<string, unknown>;
    };
    expect(written.auths).toEqual({});
    const priv = stackOf(r.response, h.id('priv'));
    expect(priv.status).toBe('failed');
    expect(priv.message).toContain(`pulling ${image} (service app) failed: ${registry.host} denied access`);
    expect(priv.message).toContain('no basic auth credentials');
    expect(stackOf(r.response, h.id('plain')).status).toBe('synced');
  });

  it('an image the registry does not have fails that stack naming it; the others stay synced', async () => {
    await h.commit({
      'priv/compose.yaml': service(image, 'four'),
      'plain/compose.yaml': composeFile({ web: {} }),
      'gone/compose.yaml': service(missing),
    });
    const r = await h.sync({ STACKD_REGISTRY_AUTH_FILE: goodFile });
    expect(r.exitCode).toBe(1);
    const gone = stackOf(r.response, h.id('gone'));
    expect(gone.status).toBe('failed');
    expect(gone.message).toContain(`pulling ${missing} (service app) failed: not found in ${registry.host}`);
    expect(gone.message).toContain('manifest unknown');
    expect(stackOf(r.response, h.id('priv')).status).toBe('synced');
    expect(stackOf(r.response, h.id('plain')).status).toBe('synced');
    const failure = events(r.stderr, 'reconcile.failure');
    expect(failure.map((f) => [f['stack'], f['cause'], f['retry']])).toEqual([
      [h.id('gone'), 'image_missing', false],
    ]);
    noSecrets('sync output', [r.stderr, JSON.stringify(r.response)]);
  });

  it('a malformed auth file is a configuration error naming the file, not its content', async () => {
    const bad = join(h.root, 'bad.json');
    await writeFile(bad, `{"auths": {"${registry.host}": {"password": "${wrongPassword}"}}}`);
    const r = await h.cli(['sync', '--once'], { STACKD_REGISTRY_AUTH_FILE: bad });
    expect(r.exitCode).toBe(2);
    const fatal = events(r.stderr, 'command.fatal');
    expect(fatal.map((l) => [l['exitCode'], l['message']])).toEqual([
      [
        2,
        `registry.authFile (STACKD_REGISTRY_AUTH_FILE): registry auth file ${bad}: auths."${registry.host}": the user name is empty`,
      ],
    ]);
    noSecrets('sync output', [r.stdout, r.stderr]);
  });
});
