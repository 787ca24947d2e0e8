/**
 * `POST /api/v1/webhook/registry` on a real server: docker-registry notifications, Docker Hub and
 * GitHub package events, each canonicalised; authentication (token, signature), what is ignored,
 * what is refused, replays, metrics and the log (never the token).
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { PushAwareController } from './fake_controller.js';
import { type Harness, REGISTRY_TOKEN, SECRET, hmacHex, json, startServer, webhookCount } from './harness.js';

const PATH = '/api/v1/webhook/registry';
const EVENTS_TYPE = 'application/vnd.docker.distribution.events.v1+json';
const MANIFEST_V2 = 'application/vnd.docker.distribution.manifest.v2+json';

let serial = 0;

/** One docker-registry event (the `notifications` envelope's entries), as distribution 2.8 sends it. */
function distributionEvent(overrides: {
  readonly action?: string;
  readonly repository?: string;
  readonly tag?: string | undefined;
  readonly mediaType?: string;
  readonly host?: string | undefined;
  readonly url?: string;
}): Record<string, unknown> {
  serial++;
  const repository = overrides.repository ?? 'app';
  const digest = `sha256:${serial.toString(16).padStart(64, '0')}`;
  const host = 'host' in overrides ? overrides.host : 'localhost:5000';
  return {
    id: `event-${serial}`,
    timestamp: '2026-12-02T11:00:00.000000000Z',
    action: overrides.action ?? 'push',
    target: {
      mediaType: overrides.mediaType ?? MANIFEST_V2,
      size: 528,
      digest,
      length: 528,
      repository,
      url: overrides.url ?? `http://localhost:5000/v2/${repository}/manifests/${digest}`,
      ...('tag' in overrides ? (overrides.tag === undefined ? {} : { tag: overrides.tag }) : { tag: '1' }),
    },
    request: {
      id: `request-${serial}`,
      addr: '127.0.0.1:41234',
      ...(host === undefined ? {} : { host }),
      method: 'PUT',
      useragent: 'docker/27.0.3 go/go1.21.11',
    },
    actor: { name: 'deploy' },
    source: { addr: 'registry-host:5000', instanceID: 'c0ffee' },
  };
}

function events(...list: Record<string, unknown>[]): string {
  return JSON.stringify({ events: list });
}

function dockerHub(repoName: string, tag: string): string {
  serial++;
  return JSON.stringify({
    callback_url: `https://registry.hub.docker.com/u/${repoName}/hook/${serial}/`,
    push_data: { pushed_at: 1_700_000_000 + serial, pusher: 'team', tag },
    repository: {
      repo_name: repoName,
      name: repoName.split('/').at(-1),
      namespace: 'team',
      status: 'Active',
    },
  });
}

function githubPackage(overrides: {
  readonly action?: string;
  readonly type?: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly tag?: string;
}): string {
  serial++;
  return JSON.stringify({
    action: overrides.action ?? 'published',
    package: {
      id: serial,
      name: overrides.name ?? 'App',
      namespace: overrides.namespace ?? 'Octo-Org',
      ecosystem: 'CONTAINER',
      package_type: overrides.type ?? 'CONTAINER',
      package_version: {
        id: serial,
        version: `sha256:${serial.toString(16).padStart(64, '0')}`,
        container_metadata: { tag: { name: overrides.tag ?? 'v1.2.0', digest: 'sha256:…' } },
      },
      registry: { name: 'GitHub CR', type: 'docker', url: 'https://ghcr.io', vendor: 'GitHub Inc' },
    },
    repository: { full_name: 'octo-org/app' },
    sender: { login: 'octocat' },
  });
}

function githubHeaders(body: string, event = 'package', secret = SECRET): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-github-event': event,
    'x-github-delivery': `delivery-${serial}`,
    'x-hub-signature-256': `sha256=${hmacHex(secret, body)}`,
  };
}

function unsigned(body: string): Record<string, string> {
  const headers = githubHeaders(body);
  delete headers['x-hub-signature-256'];
  return headers;
}

const bearer = (token = REGISTRY_TOKEN): Record<string, string> => ({
  'content-type': EVENTS_TYPE,
  authorization: `Bearer ${token}`,
});

function post(base: string, body: string, headers: Record<string, string>, query = ''): Promise<Response> {
  return fetch(`${base}${PATH}${query}`, { method: 'POST', headers, body });
}

describe('POST /api/v1/webhook/registry', () => {
  let h: Harness;
  let controller: PushAwareController;
  beforeEach(async () => {
    controller = new PushAwareController();
    h = await startServer({ webhookSecret: SECRET, registryToken: REGISTRY_TOKEN, controller });
  });
  afterEach(async () => {
    await h.close();
  });

  describe('docker-registry notifications', () => {
    it('a tagged manifest push is 202, canonicalised from request.host, and handed to the controller', async () => {
      const body = events(distributionEvent({ repository: 'team/app', tag: '1' }));
      const response = await post(h.base, body, bearer());
      expect(response.status).toBe(202);
      expect(await json(response)).toEqual({ accepted: ['localhost:5000/team/app:1'], matched: 2 });
      expect(controller.pushCalls).toEqual([
        { pushes: [{ name: 'localhost:5000/team/app', tag: '1' }], source: 'webhook:distribution' },
      ]);
      expect(await webhookCount(h, 'distribution', 'accepted')).toBe(1);
      expect(h.logs.find((l) => l['event'] === 'webhook.accepted')).toMatchObject({
        provider: 'distribution',
        images: ['localhost:5000/team/app:1'],
        matched: 2,
        level: 'info',
      });
    });

    it('application/json works too; pulls, blob pushes and pushes by digest in the batch are passed over, repeats taken once', async () => {
      const body = events(
        distributionEvent({ action: 'pull' }),
        distributionEvent({ mediaType: 'application/octet-stream', tag: undefined }),
        distributionEvent({ tag: undefined }),
        distributionEvent({ repository: 'app', tag: 'v2' }),
        distributionEvent({ repository: 'app', tag: 'v2' }),
        distributionEvent({ repository: 'other', tag: 'latest', host: 'Registry.Example.com' }),
      );
      const response = await post(h.base, body, { ...bearer(), 'content-type': 'application/json' });
      expect(response.status).toBe(202);
      expect(await json(response)).toEqual({
        accepted: ['localhost:5000/app:v2', 'registry.example.com/other:latest'],
        matched: 2,
      });
    });

    it('without request.host, the registry is the host of target.url', async () => {
      const body = events(
        distributionEvent({
          host: undefined,
          repository: 'app',
          tag: '3',
          url: 'https://registry.example.com:8443/v2/app/manifests/sha256:abc',
        }),
      );
      const response = await post(h.base, body, bearer());
      expect(await json(response)).toEqual({ accepted: ['registry.example.com:8443/app:3'], matched: 2 });
    });

    it('a batch without a tagged push is 200 ignored, the controller not called', async () => {
      const body = events(
        distributionEvent({ action: 'pull' }),
        distributionEvent({ mediaType: 'application/octet-stream', tag: undefined }),
        distributionEvent({ action: 'delete' }),
      );
      const response = await post(h.base, body, bearer());
      expect(response.status).toBe(200);
      expect(await json(response)).toEqual({
        ignored: true,
        reason: 'no tag pushed (3 events: pull, a blob push, delete)',
      });
      expect(controller.pushCalls).toEqual([]);
      expect(await webhookCount(h, 'distribution', 'ignored')).toBe(1);
      expect(h.logs.find((l) => l['event'] === 'webhook.ignored')).toMatchObject({
        provider: 'distribution',
      });
    });

    it('a registry addressed by a name no image reference can use (no dot, no port) is ignored', async () => {
      const response = await post(h.base, events(distributionEvent({ host: 'registry' })), bearer());
      expect(response.status).toBe(200);
      expect(await json(response)).toMatchObject({ ignored: true });
      expect(controller.pushCalls).toEqual([]);
    });

    it('the same delivery again (distribution retries) is 200 duplicate and not handed on again', async () => {
      const body = events(distributionEvent({}));
      expect((await post(h.base, body, bearer())).status).toBe(202);
      const again = await post(h.base, body, bearer());
      expect(again.status).toBe(200);
      expect(await json(again)).toEqual({ duplicate: true });
      expect(controller.pushCalls).toHaveLength(1);
      expect(await webhookCount(h, 'distribution', 'duplicate')).toBe(1);
    });
  });

  describe('Docker Hub', () => {
    it.each([
      ['nginx', '1.27', 'docker.io/library/nginx'],
      ['team/app', '1.2', 'docker.io/team/app'],
    ])('%s:%s, token in the query, is %s', async (repo, tag, name) => {
      const response = await post(
        h.base,
        dockerHub(repo, tag),
        { 'content-type': 'application/json' },
        `?token=${REGISTRY_TOKEN}`,
      );
      expect(response.status).toBe(202);
      expect(await json(response)).toEqual({ accepted: [`${name}:${tag}`], matched: 2 });
      expect(controller.pushCalls).toEqual([{ pushes: [{ name, tag }], source: 'webhook:dockerhub' }]);
      expect(await webhookCount(h, 'dockerhub', 'accepted')).toBe(1);
    });

    it('a repo_name naming another registry is refused (Docker Hub pushes are docker.io)', async () => {
      const response = await post(
        h.base,
        dockerHub('localhost:5000/app', '1'),
        { 'content-type': 'application/json' },
        `?token=${REGISTRY_TOKEN}`,
      );
      expect(response.status).toBe(400);
      expect((await json(response))['error']).toMatch(/repository\.repo_name: .* is not an image reference/);
      expect(controller.pushCalls).toEqual([]);
    });
  });

  describe('GitHub package events (ghcr.io)', () => {
    it.each(['published', 'updated'])(
      'a container version %s is 202, its name lower-cased',
      async (action) => {
        const body = githubPackage({ action, namespace: 'Octo-Org', name: 'App', tag: 'V1.2.0' });
        const response = await post(h.base, body, githubHeaders(body));
        expect(response.status).toBe(202);
        expect(await json(response)).toEqual({ accepted: ['ghcr.io/octo-org/app:V1.2.0'], matched: 2 });
        expect(controller.pushCalls).toEqual([
          { pushes: [{ name: 'ghcr.io/octo-org/app', tag: 'V1.2.0' }], source: 'webhook:ghcr' },
        ]);
        expect(await webhookCount(h, 'ghcr', 'accepted')).toBe(1);
      },
    );

    it('package_type in any case', async () => {
      const body = githubPackage({ type: 'container' });
      expect((await post(h.base, body, githubHeaders(body))).status).toBe(202);
    });

    it.each([
      ['an npm package', { type: 'npm' }, /a npm package, not a container/],
      ['a version without a tag', { tag: '' }, /no tag/],
      ['another action', { action: 'deleted' }, /package action deleted/],
    ])('%s is 200 ignored', async (_what, overrides, reason) => {
      const body = githubPackage(overrides);
      const response = await post(h.base, body, githubHeaders(body));
      expect(response.status).toBe(200);
      const answer = await json(response);
      expect(answer['ignored']).toBe(true);
      expect(answer['reason']).toMatch(reason);
      expect(controller.pushCalls).toEqual([]);
    });

    it('a ping is 200, counted as a ping', async () => {
      const body = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 });
      const response = await post(h.base, body, githubHeaders(body, 'ping'));
      expect(response.status).toBe(200);
      expect(await json(response)).toEqual({ ignored: true, reason: 'ping' });
      expect(await webhookCount(h, 'ghcr', 'ping')).toBe(1);
    });

    it('another event is 200 ignored', async () => {
      const body = JSON.stringify({ ref: 'refs/heads/main' });
      const response = await post(h.base, body, githubHeaders(body, 'push'));
      expect(response.status).toBe(200);
      expect(await json(response)).toEqual({ ignored: true, reason: 'event push is not a package event' });
    });

    it.each([
      ['a signature with another secret', (b: string) => githubHeaders(b, 'package', 'not-the-secret')],
      ['the registry token instead of a signature', (b: string) => ({ ...unsigned(b), ...bearer() })],
      ['no signature', unsigned],
    ])('%s is 401 and nothing happens', async (_what, headers) => {
      const body = githubPackage({});
      const response = await post(h.base, body, headers(body));
      expect(response.status).toBe(401);
      expect(controller.pushCalls).toEqual([]);
      expect(await webhookCount(h, 'ghcr', 'rejected')).toBe(1);
    });
  });

  describe('authentication', () => {
    it.each([
      ['no token', {}, ''],
      ['a wrong bearer token', { authorization: `Bearer ${REGISTRY_TOKEN}x` }, ''],
      ['a Basic authorization', { authorization: `Basic ${REGISTRY_TOKEN}` }, ''],
      ['the HMAC secret as bearer token', { authorization: `Bearer ${SECRET}` }, ''],
      ['a wrong query token', {}, `?token=${REGISTRY_TOKEN.slice(0, -1)}`],
      ['a repeated query token', {}, `?token=${REGISTRY_TOKEN}&token=${REGISTRY_TOKEN}`],
      [
        'a wrong bearer token beside a right query token',
        { authorization: 'Bearer nope' },
        `?token=${REGISTRY_TOKEN}`,
      ],
    ])(
      '%s is 401, the controller not called, nothing but the rejection counted',
      async (_what, headers, query) => {
        const response = await post(
          h.base,
          events(distributionEvent({})),
          { 'content-type': EVENTS_TYPE, ...headers },
          query,
        );
        expect(response.status).toBe(401);
        expect(await json(response)).toEqual({ error: 'missing or invalid webhook token or signature' });
        expect(controller.pushCalls).toEqual([]);
        const rejected = h.logs.filter((l) => l['event'] === 'webhook.rejected');
        expect(rejected).toHaveLength(1);
        expect(rejected[0]).toMatchObject({ level: 'warn', remote: expect.stringMatching(/127\.0\.0\.1/) });
        expect(
          h.logs.filter((l) => l['event'] !== 'webhook.rejected' && l['event'] !== 'server.listening'),
        ).toEqual([]);
      },
    );

    it('the token, right or wrong, in the query or a header, never appears in a log line', async () => {
      const wrong = `${REGISTRY_TOKEN}-wrong`;
      await post(
        h.base,
        dockerHub('team/app', '1'),
        { 'content-type': 'application/json' },
        `?token=${REGISTRY_TOKEN}`,
      );
      await post(
        h.base,
        dockerHub('team/app', '2'),
        { 'content-type': 'application/json' },
        `?token=${wrong}`,
      );
      await post(
        h.base,
        '{"push_data": ',
        { 'content-type': 'application/json' },
        `?token=${REGISTRY_TOKEN}`,
      );
      await post(h.base, events(distributionEvent({})), bearer(wrong));
      await post(h.base, events(distributionEvent({})), bearer());
      // Unknown paths and methods with a token in the query: the 404 names the path only.
      const missing = await fetch(`${h.base}${PATH}/nope?token=${REGISTRY_TOKEN}`, { method: 'POST' });
      expect(await missing.text()).not.toContain(REGISTRY_TOKEN);
      expect((await fetch(`${h.base}${PATH}?token=${REGISTRY_TOKEN}`)).status).toBe(404);
      const events_ = h.logs.map((l) => l['event']);
      expect(events_).toEqual(
        expect.arrayContaining(['webhook.accepted', 'webhook.rejected', 'webhook.invalid']),
      );
      const log = h.rawLogs.join('\n');
      expect(log).not.toContain(REGISTRY_TOKEN);
      expect(log).not.toContain('token=');
    });

    it('answers a Host header that is no name of this stackd (senders use the public name)', async () => {
      const response = await post(h.base, events(distributionEvent({})), {
        ...bearer(),
        host: 'stackd.example.com',
      });
      expect(response.status).toBe(202);
    });
  });

  describe('bad payloads: 400 naming what is wrong, the controller not called', () => {
    it.each([
      ['truncated JSON', '{"events": [', /malformed JSON/],
      ['a JSON array', '[]', /not a JSON object/],
      [
        'another JSON object',
        '{"hello": "world"}',
        /neither a registry notification .* nor a Docker Hub push/,
      ],
      ['events not an array', '{"events": {"action": "push"}}', /events is not an array/],
      ['an event not an object', '{"events": ["push"]}', /events\[0\] is not an object/],
      [
        'a tagged push without a repository',
        events({ action: 'push', target: { tag: '1', mediaType: MANIFEST_V2 } }),
        /events\[0\]\.target\.repository is missing/,
      ],
      [
        'a tagged push naming no registry',
        events({ action: 'push', target: { tag: '1', repository: 'app' } }),
        /events\[0\] names no registry \(request\.host, target\.url\)/,
      ],
      [
        'a repository no reference can name',
        events(distributionEvent({ repository: 'Bad Name' })),
        /events\[0\]: .* is not an image reference/,
      ],
      [
        'a Docker Hub push without a tag',
        '{"push_data": {}, "repository": {"repo_name": "team/app"}}',
        /push_data\.tag is missing/,
      ],
      [
        'a Docker Hub push without a repository',
        '{"push_data": {"tag": "1"}}',
        /repository\.repo_name is missing/,
      ],
    ])('%s', async (_what, body, reason) => {
      const response = await post(h.base, body, bearer());
      expect(response.status).toBe(400);
      expect((await json(response))['error']).toMatch(reason);
      expect(controller.pushCalls).toEqual([]);
      expect(h.logs.find((l) => l['event'] === 'webhook.invalid')).toMatchObject({ level: 'warn' });
    });

    it('a GitHub package event without package.namespace', async () => {
      const body = JSON.stringify({
        action: 'published',
        package: { name: 'app', package_type: 'CONTAINER' },
      });
      const response = await post(h.base, body, githubHeaders(body));
      expect(response.status).toBe(400);
      expect(await json(response)).toEqual({ error: 'package.namespace is missing' });
    });
  });
});

describe('POST /api/v1/webhook/registry: when it exists', () => {
  const body = events(distributionEvent({}));

  it('404 with neither webhook.registryToken nor webhook.secret', async () => {
    const h = await startServer({
      gitlabToken: 'gitlab-token-0123456789abcdef',
      controller: new PushAwareController(),
    });
    try {
      const response = await post(h.base, body, bearer());
      expect(response.status).toBe(404);
    } finally {
      await h.close();
    }
  });

  it('404 when the controller takes no registry pushes (no imagesPushed)', async () => {
    const h = await startServer({ webhookSecret: SECRET, registryToken: REGISTRY_TOKEN });
    try {
      expect((await post(h.base, body, bearer())).status).toBe(404);
    } finally {
      await h.close();
    }
  });

  it('with only webhook.secret: GitHub package events work, token senders are refused naming webhook.registryToken', async () => {
    const controller = new PushAwareController();
    const h = await startServer({ webhookSecret: SECRET, controller });
    try {
      expect((await post(h.base, body, bearer())).status).toBe(401);
      expect(h.logs.find((l) => l['event'] === 'webhook.rejected')?.['reason']).toMatch(
        /webhook\.registryToken, which is not set/,
      );
      const pkg = githubPackage({});
      expect((await post(h.base, pkg, githubHeaders(pkg))).status).toBe(202);
    } finally {
      await h.close();
    }
  });

  it('with only webhook.registryToken: GitHub package events are refused naming webhook.secret', async () => {
    const controller = new PushAwareController();
    const h = await startServer({ registryToken: REGISTRY_TOKEN, controller });
    try {
      const pkg = githubPackage({});
      expect((await post(h.base, pkg, githubHeaders(pkg))).status).toBe(401);
      expect(h.logs.find((l) => l['event'] === 'webhook.rejected')?.['reason']).toMatch(
        /webhook\.secret, which is not set/,
      );
      expect((await post(h.base, body, bearer())).status).toBe(202);
      expect(controller.pushCalls).toHaveLength(1);
    } finally {
      await h.close();
    }
  });
});
