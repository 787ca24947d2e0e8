/**
 * Issue 13, item 5 — redaction as a tested invariant. Every secret stackd knows is set at once,
 * each a unique marker: the Git token, credentials in a source URL, the API token, the webhook
 * secret, the GitLab token, the age identity, the values of decrypted SOPS and age files, and the
 * password of a private registry (registry.authFile) the stack's image is pulled from, and the
 * lines of an SSH deploy key (a `sync --once` from a real sshd on loopback).
 * The daemon deploys, redeploys, takes webhooks and API calls, fails a fetch (a rotated token)
 * and a decryption; CLI commands run beside it. Then each marker (and its base64 forms) is
 * looked for in every log line, every API answer, /metrics, state.json, every file of dataDir
 * (but the decrypted work files and compose's private docker/config.json, which must hold them),
 * the label overrides, and the argv of every process sampled while all this ran
 * (`/proc/<pid>/cmdline`, every 20 ms), plus the environment of every process the daemon started.
 * None may be there; the deploy key's path may be in ssh's environment only.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { StackStatus } from '../../internal/status/index.js';
import { type Daemon, githubPush, startDaemon } from '../helpers/daemon.js';
import { RUN_ID, waitFor } from '../helpers/docker.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { ProcessSampler, filesUnder } from '../helpers/processes.js';
import { startSshd, type Sshd } from '../helpers/sshd.js';
import { ageEncrypt, ageKeygen, sopsDotenv, sopsYaml } from '../helpers/sops.js';
import { Harness } from '../helpers/stackd.js';

const marker = (name: string): string => `${name}${RUN_ID}Zq${Math.random().toString(36).slice(2, 10)}`;

const S = {
  gitToken: marker('gittoken'),
  urlPassword: marker('urlpass'),
  apiToken: marker('apitoken'),
  webhookSecret: marker('hooksecret'),
  gitlabToken: marker('gitlabtoken'),
  registryToken: marker('registrytoken'),
  sopsEnvValue: marker('sopsenv'),
  sopsYamlValue: marker('sopsyaml'),
  dotenvValue: marker('dotenv'),
  ageValue: marker('agefile'),
  registryPassword: marker('registrypass'),
};
const REGISTRY_USER = 'puller';
const GIT_USER = 'deploybot';

/** Poll one stack through the API with the bearer token (every endpoint needs it here). */
function waitForStack(
  d: Daemon,
  id: string,
  what: string,
  predicate: (s: StackStatus) => boolean,
  timeoutMs: number,
): Promise<StackStatus> {
  return waitFor(
    `${id} ${what}`,
    async () => {
      const r = await fetch(`${d.url}/api/v1/stacks/${encodeURIComponent(id)}`, {
        headers: { authorization: `Bearer ${S.apiToken}` },
      });
      const s = r.status === 200 ? ((await r.json()) as StackStatus) : undefined;
      return s !== undefined && predicate(s) ? s : undefined;
    },
    timeoutMs,
    200,
  );
}

/** The stack's image is in the private registry only: compose pulls it with registry.authFile. */
const compose = (image: string): string => `services:
  app:
    image: ${image}
    command: ["sleep", "3600"]
    stop_grace_period: 1s
    env_file: app.env
    environment:
      FROM_DOTENV: \${SEALED:?required}
    volumes:
      - ./conf.yaml:/conf.yaml:ro
      - ./token:/token:ro
`;

/** Where each secret was found: `[secret name, place]` pairs (empty when redaction holds). */
function leaks(places: ReadonlyMap<string, string>, secrets: Readonly<Record<string, string>>): string[][] {
  const forms = Object.entries(secrets).flatMap(([name, value]) => [
    [name, value],
    [`${name} (base64)`, Buffer.from(value).toString('base64')],
  ]);
  forms.push([
    'gitToken (basic auth)',
    Buffer.from(`${GIT_USER}:${secrets['gitToken'] ?? ''}`).toString('base64'),
  ]);
  forms.push([
    'registryPassword (docker login auth)',
    Buffer.from(`${REGISTRY_USER}:${secrets['registryPassword'] ?? ''}`).toString('base64'),
  ]);
  const found: string[][] = [];
  for (const [place, text] of places) {
    for (const [name, form] of forms)
      if (form !== undefined && text.includes(form)) found.push([name ?? '', place]);
  }
  return found;
}

describe('fault: every secret stackd knows stays out of logs, API, files and argv', () => {
  let h: Harness;
  let d: Daemon | undefined;
  let sampler: ProcessSampler;
  let registry: TestRegistry;
  let sshd: Sshd | undefined;
  let sshKeyLines: string[] = [];
  let image: string;
  const seen = new Map<string, string>();
  const key = ageKeygen();
  const identityMarker = key.identity;

  beforeAll(async () => {
    registry = await startRegistry({ username: REGISTRY_USER, password: S.registryPassword });
    image = await registry.push('stackd-test/busybox:1', `stackd-redact-${RUN_ID}/app:1`);
    h = await Harness.create('redact', { auth: { username: GIT_USER, password: S.gitToken } });
    const file = async (name: string, content: string): Promise<string> => {
      const path = join(h.root, name);
      await writeFile(path, `${content}\n`, { mode: 0o600 });
      return path;
    };
    h.env['STACKD_SOURCE_USERNAME'] = GIT_USER;
    h.env['STACKD_SOURCE_TOKEN_FILE'] = await file('source-token', S.gitToken);
    h.env['STACKD_API_TOKEN_FILE'] = await file('api-token', S.apiToken);
    h.env['STACKD_WEBHOOK_SECRET_FILE'] = await file('webhook-secret', S.webhookSecret);
    h.env['STACKD_WEBHOOK_GITLAB_TOKEN_FILE'] = await file('gitlab-token', S.gitlabToken);
    h.env['STACKD_WEBHOOK_REGISTRY_TOKEN_FILE'] = await file('registry-token', S.registryToken);
    h.env['STACKD_SECRETS_AGE_KEY_FILE'] = await file('age-key', key.file);
    h.env['STACKD_REGISTRY_AUTH_FILE'] = await file(
      'registry-auth',
      JSON.stringify({
        auths: { [registry.host]: { username: REGISTRY_USER, password: S.registryPassword } },
      }),
    );
    h.env['STACKD_SOURCE_POLL_INTERVAL'] = '0';
    sampler = new ProcessSampler(() => d?.pid);
  });

  afterAll(async () => {
    await sampler.stop();
    await d?.stop().catch(() => undefined);
    await h.cleanup();
    await registry.close();
    await sshd?.close();
  });

  const recipients = (): string[] => [key.recipient];
  const files = (value: string): Record<string, string> => ({
    'app/compose.yaml': compose(image),
    'app/app.sops.env': sopsDotenv(`SECRET_A=${value}\n`, { recipients: recipients() }),
    'app/.sops.env': sopsDotenv(`SEALED=${S.dotenvValue}\n`, { recipients: recipients() }),
    'app/conf.sops.yaml': sopsYaml(`db:\n  password: ${S.sopsYamlValue}\n`, { recipients: recipients() }),
    'app/token.age': ageEncrypt(`${S.ageValue}\n`, recipients(), true).toString('utf8'),
  });

  it('the daemon deploys, redeploys, answers webhooks and the API, and fails a fetch and a decryption', async () => {
    const api = async (
      path: string,
      init: { method?: string; body?: string } = {},
      token = S.apiToken,
    ): Promise<void> => {
      const r = await fetch(`${d?.url ?? ''}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      });
      seen.set(`API ${init.method ?? 'GET'} ${path} (${r.status})`, await r.text());
    };
    const id = h.id('app');
    await h.commit(files(S.sopsEnvValue));
    d = await startDaemon(h);
    await waitForStack(d, id, 'synced', (s) => s.status === 'synced', 90_000);

    // A new value, announced by a signed GitHub push and a GitLab push.
    const rev = await h.commit({
      'app/app.sops.env': files(`${S.sopsEnvValue}-2`)['app/app.sops.env'] ?? '',
    });
    expect((await githubPush(d.url, S.webhookSecret, 'refs/heads/main')).status).toBe(202);
    await fetch(`${d.url}/api/v1/webhook`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-gitlab-event': 'Push Hook',
        'x-gitlab-token': S.gitlabToken,
      },
      body: JSON.stringify({ ref: 'refs/heads/main', after: rev }),
    });
    await githubPush(d.url, S.webhookSecret, 'refs/heads/main', { badSignature: true });
    // Registry pushes: the token as a header (docker-registry), in the query (Docker Hub), wrong.
    const statuses: number[] = [];
    const hub = (tag: string): string =>
      JSON.stringify({ push_data: { tag }, repository: { repo_name: 'team/app' } });
    for (const [query, auth] of [
      ['', `Bearer ${S.registryToken}`],
      [`?token=${S.registryToken}`, undefined],
      [`?token=${S.registryToken}-wrong`, undefined],
    ] as const) {
      const r = await fetch(`${d.url}/api/v1/webhook/registry${query}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(auth === undefined ? {} : { authorization: auth }),
        },
        body: hub(query === '' ? '1' : '2'),
      });
      statuses.push(r.status);
      seen.set(`registry webhook ${query === '' ? 'bearer' : 'query'} (${r.status})`, await r.text());
    }
    expect(statuses).toEqual([202, 202, 401]);
    await waitForStack(
      d,
      id,
      'synced at the new revision',
      (s) => s.status === 'synced' && s.synced?.revision === rev,
      90_000,
    );

    for (const path of [
      '/api/v1/stacks',
      `/api/v1/stacks/${encodeURIComponent(id)}`,
      '/api/v1/runs',
      '/metrics',
      '/healthz',
      '/readyz',
    ]) {
      await api(path);
    }
    await api(`/api/v1/stacks/${encodeURIComponent(id)}/sync`, { method: 'POST', body: '{}' });
    await api('/api/v1/refresh', { method: 'POST', body: '{}' }, `${S.apiToken}-wrong`);

    // A decryption that fails (encrypted for another key), then a fetch that fails (the forge
    // rotated the token): both end up in messages, logs and the API.
    const other = ageKeygen();
    await h.commit({
      'app/app.sops.env': sopsDotenv(`SECRET_A=${S.sopsEnvValue}-3\n`, { recipients: [other.recipient] }),
    });
    await api('/api/v1/refresh', { method: 'POST', body: '{}' });
    await waitForStack(d, id, 'failed', (s) => s.status === 'failed', 60_000);
    h.server.setAuth({ username: GIT_USER, password: `${S.gitToken}-rotated` });
    await api('/api/v1/refresh', { method: 'POST', body: '{}' });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await api('/api/v1/stacks');
    await api(`/api/v1/stacks/${encodeURIComponent(id)}`);
    await api('/metrics');
    expect(seen.get('API GET /api/v1/stacks (200)') ?? '').toContain('lastError');
    await d.stop();
    seen.set('daemon log', d.logs.map((l) => JSON.stringify(l)).join('\n'));
  });

  it('CLI commands beside it print no secret (config, a failing fetch with credentials in the URL)', async () => {
    const config = await h.cli(['config', '--output', 'json']);
    seen.set('stackd config', config.stdout + config.stderr);
    const url = new URL(h.env['STACKD_SOURCE_URL'] ?? '');
    url.username = GIT_USER;
    url.password = S.urlPassword;
    const once = await h.cli(['sync', '--once', '--output', 'json'], {
      STACKD_SOURCE_URL: url.toString(),
      STACKD_SOURCE_TOKEN_FILE: '',
      STACKD_DATA_DIR: join(h.root, 'data-url'),
    });
    expect(once.exitCode).toBe(3);
    seen.set('sync --once (URL credentials)', once.stdout + once.stderr);
    const plan = await h.cli(['plan', '--output', 'json']);
    seen.set('stackd plan', plan.stdout + plan.stderr);
  });

  it('an SSH source: the deploy key is read by ssh alone (its lines and its path in no argv, no file of dataDir)', async () => {
    sshd = await startSshd({ root: join(h.root, 'sshd'), repos: h.root });
    sshKeyLines = (await readFile(sshd.clientKey, 'utf8'))
      .split('\n')
      .filter((l) => l.length > 20 && !l.startsWith('-----'));
    expect(sshKeyLines.length).toBeGreaterThan(0);
    const once = await h.cli(['sync', '--once', '--output', 'json'], {
      STACKD_SOURCE_URL: sshd.url('stacks.git'),
      STACKD_SOURCE_TOKEN_FILE: '',
      STACKD_SOURCE_USERNAME: '',
      STACKD_SOURCE_SSH_KEY_FILE: sshd.clientKey,
      STACKD_SOURCE_KNOWN_HOSTS_FILE: sshd.knownHosts,
      STACKD_DATA_DIR: join(h.root, 'data-ssh'),
    });
    seen.set('sync --once (SSH source)', once.stdout + once.stderr);
    expect((JSON.parse(once.stdout) as { source: { lastError: unknown } }).source.lastError).toBeNull();
    expect((await sshd.calls()).length).toBeGreaterThan(0);
  });

  it('none of the secrets is anywhere: logs, API, /metrics, dataDir, overrides, argv, child environments', async () => {
    await sampler.stop();
    const secrets: Record<string, string> = { ...S, ageIdentity: identityMarker };
    sshKeyLines.forEach((line, i) => (secrets[`ssh key line ${i + 1}`] = line));
    // The decrypted work files must hold their plaintext (a test that can find nothing proves nothing).
    const work = join(h.dataDir, 'work', h.prefix, 'app');
    expect(await readFile(join(work, 'token'), 'utf8')).toBe(`${S.ageValue}\n`);
    const plainFiles = new Set(['app.env', '.env', 'conf.yaml', 'token'].map((f) => join(work, f)));
    // compose's private client config holds the registry login, by design (0600, in a 0700 directory).
    const login = Buffer.from(`${REGISTRY_USER}:${S.registryPassword}`).toString('base64');
    const dockerConfig = join(h.dataDir, 'docker', 'config.json');
    expect(await readFile(dockerConfig, 'utf8')).toContain(login);
    expect(((await stat(dockerConfig)).mode & 0o777).toString(8)).toBe('600');
    for (const dataDir of [h.dataDir, join(h.root, 'data-url'), join(h.root, 'data-ssh')])
      plainFiles.add(join(dataDir, 'docker', 'config.json'));
    const places = new Map(seen);
    for (const dataDir of [h.dataDir, join(h.root, 'data-url'), join(h.root, 'data-ssh')]) {
      for (const path of await filesUnder(dataDir)) {
        if (plainFiles.has(path)) continue;
        // The --env-file copy of a decrypted `.env` is plaintext by design (0600, out of the work tree).
        if (path.startsWith(join(dataDir, 'overrides')) && path.endsWith('.env')) {
          expect(((await stat(path)).mode & 0o777).toString(8)).toBe('600');
          continue;
        }
        places.set(`file ${relative(h.root, path)}`, (await readFile(path)).toString('latin1'));
      }
    }
    for (const [cmdline, pid] of sampler.cmdlines)
      places.set(`argv of ${pid}: ${cmdline.slice(0, 80)}`, cmdline);
    for (const [pid, environ] of sampler.environs) places.set(`environment of ${pid}`, environ);
    // The sampler saw what stackd ran: compose up, a child of the daemon.
    expect([...sampler.cmdlines.keys()].some((c) => / up /.test(c) && c.includes(h.project('app')))).toBe(
      true,
    );
    expect(sampler.environs.size).toBeGreaterThan(0);
    expect(places.has('file data/state.json')).toBe(true);
    expect(leaks(places, secrets)).toEqual([]);
    // The key's path is handed to ssh in its environment only: no argv and no file names it.
    const keyPath = sshd?.clientKey ?? '';
    expect(keyPath).not.toBe('');
    // (The test's own ssh-keygen, making the key when the SSH test starts, is not stackd's: the
    // sampler lists every process, and stackd never runs ssh-keygen.)
    const naming = [...places].filter(
      ([place, text]) =>
        !place.startsWith('environment') &&
        text.includes(keyPath) &&
        !(place.startsWith('argv of ') && /^(\S*\/)?ssh-keygen /.test(text)),
    );
    expect(naming.map(([place]) => place)).toEqual([]);
    expect(
      [...sampler.cmdlines.keys()].some(
        (c) => c.includes(' fetch ') && c.includes(sshd?.url('stacks.git') ?? 'none'),
      ),
    ).toBe(true);
  });
});
