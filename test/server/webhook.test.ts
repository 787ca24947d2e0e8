import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { GITLAB_TOKEN, type Harness, SECRET, hmacHex, json, startServer, webhookCount } from './harness.js';

const PUSH_MAIN = JSON.stringify({
  ref: 'refs/heads/main',
  after: 'f00dcafe',
  repository: { name: 'stacks' },
});
const PUSH_OTHER = JSON.stringify({ ref: 'refs/heads/feature', after: 'beef' });

type Signer = (body: string, secret: string) => Record<string, string>;

/** How each forge authenticates a delivery, as it sends it, and the secret it is configured with. */
const PROVIDERS: readonly (readonly [string, Signer, string, string])[] = [
  [
    'github',
    (b, s) => ({ 'x-github-event': 'push', 'x-hub-signature-256': `sha256=${hmacHex(s, b)}` }),
    'push',
    SECRET,
  ],
  [
    'gitea',
    (b, s) => ({
      'x-gitea-event': 'push',
      'x-gitea-signature': hmacHex(s, b),
      'x-gogs-signature': hmacHex(s, b),
      'x-hub-signature-256': `sha256=${hmacHex(s, b)}`,
    }),
    'push',
    SECRET,
  ],
  [
    'forgejo',
    (b, s) => ({
      'x-forgejo-event': 'push',
      'x-forgejo-signature': hmacHex(s, b),
      'x-gitea-signature': hmacHex(s, b),
      'x-gogs-signature': hmacHex(s, b),
    }),
    'push',
    SECRET,
  ],
  ['gogs', (b, s) => ({ 'x-gogs-event': 'push', 'x-gogs-signature': hmacHex(s, b) }), 'push', SECRET],
  ['gitlab', (_b, s) => ({ 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': s }), 'Push Hook', GITLAB_TOKEN],
];

function post(base: string, body: string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${base}/api/v1/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
}

describe('POST /api/v1/webhook', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startServer({ webhookSecret: SECRET, gitlabToken: GITLAB_TOKEN });
  });
  afterEach(async () => {
    await h.close();
  });

  describe.each(PROVIDERS)('%s', (provider, sign, _event, secret) => {
    it('a signed push to the branch is 202 and triggers a refresh', async () => {
      const response = await post(h.base, PUSH_MAIN, sign(PUSH_MAIN, secret));
      expect(response.status).toBe(202);
      expect(await json(response)).toEqual({ accepted: true });
      expect(h.controller.refreshCalls).toEqual(['webhook']);
      expect(await webhookCount(h, provider, 'accepted')).toBe(1);
      const accepted = h.logs.find((l) => l['event'] === 'webhook.accepted');
      expect(accepted).toMatchObject({
        provider,
        ref: 'refs/heads/main',
        revision: 'f00dcafe',
        level: 'info',
      });
    });

    it('a wrong signature is 401, refreshes nothing, and is logged without the signature', async () => {
      const headers = sign(PUSH_MAIN, 'not-the-secret');
      const response = await post(h.base, PUSH_MAIN, headers);
      expect(response.status).toBe(401);
      expect(await json(response)).toEqual({ error: 'missing or invalid webhook signature' });
      expect(h.controller.refreshCalls).toEqual([]);
      expect(await webhookCount(h, provider, 'rejected')).toBe(1);
      const rejected = h.logs.find((l) => l['event'] === 'webhook.rejected');
      expect(rejected).toMatchObject({
        provider,
        level: 'warn',
        remote: expect.stringMatching(/127\.0\.0\.1/),
      });
      const log = h.rawLogs.join('\n');
      for (const value of Object.values(headers)) expect(log).not.toContain(value.replace(/^sha256=/, ''));
      expect(log).not.toContain(secret);
      expect(log).not.toContain('not-the-secret');
    });

    it('a signature over other bytes is 401 (the HMAC covers the raw body)', async () => {
      const reformatted = JSON.stringify(JSON.parse(PUSH_MAIN), null, 2);
      const response = await post(h.base, reformatted, sign(PUSH_MAIN, secret));
      expect(response.status).toBe(provider === 'gitlab' ? 202 : 401);
    });

    it('a push to another branch is 202 and ignored', async () => {
      const response = await post(h.base, PUSH_OTHER, sign(PUSH_OTHER, secret));
      expect(response.status).toBe(202);
      expect(await json(response)).toEqual({ ignored: true, ref: 'refs/heads/feature' });
      expect(h.controller.refreshCalls).toEqual([]);
      expect(await webhookCount(h, provider, 'ignored')).toBe(1);
      expect(h.logs.find((l) => l['event'] === 'webhook.ignored')).toMatchObject({
        provider,
        ref: 'refs/heads/feature',
      });
    });
  });

  it.each([
    ['no signature header', {}],
    ['an empty GitHub signature', { 'x-hub-signature-256': '' }],
    ['a GitHub signature without the sha256= prefix', { 'x-hub-signature-256': hmacHex(SECRET, PUSH_MAIN) }],
    ['a GitHub sha1 signature', { 'x-hub-signature': `sha1=${'0'.repeat(40)}` }],
    ['a truncated Gitea signature', { 'x-gitea-signature': hmacHex(SECRET, PUSH_MAIN).slice(0, 63) }],
    ['a non-hex Gogs signature', { 'x-gogs-signature': 'z'.repeat(64) }],
    ['a wrong GitLab token', { 'x-gitlab-token': `${GITLAB_TOKEN}x` }],
    ['an empty GitLab token', { 'x-gitlab-token': '' }],
    ['the HMAC secret as GitLab token', { 'x-gitlab-token': SECRET }],
    [
      'a GitHub signature made with the GitLab token',
      { 'x-hub-signature-256': `sha256=${hmacHex(GITLAB_TOKEN, PUSH_MAIN)}` },
    ],
  ])('%s is 401', async (_name, headers: Record<string, string>) => {
    const response = await post(h.base, PUSH_MAIN, { 'x-github-event': 'push', ...headers });
    expect(response.status).toBe(401);
    expect(h.controller.refreshCalls).toEqual([]);
  });

  it('an unsigned request counts as rejected under the provider its event header names', async () => {
    await post(h.base, PUSH_MAIN, { 'x-github-event': 'push' });
    await post(h.base, PUSH_MAIN, {});
    expect(await webhookCount(h, 'github', 'rejected')).toBe(1);
    expect(await webhookCount(h, 'unknown', 'rejected')).toBe(1);
  });

  it('a GitHub ping is 200 and refreshes nothing', async () => {
    const body = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 });
    const response = await post(h.base, body, {
      'x-github-event': 'ping',
      'x-hub-signature-256': `sha256=${hmacHex(SECRET, body)}`,
    });
    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ ignored: true, event: 'ping' });
    expect(h.controller.refreshCalls).toEqual([]);
    expect(await webhookCount(h, 'github', 'ping')).toBe(1);
  });

  it('an event that is not a push (issues) is 200 and ignored', async () => {
    const body = JSON.stringify({ action: 'opened' });
    const response = await post(h.base, body, {
      'x-gitea-event': 'issues',
      'x-gitea-signature': hmacHex(SECRET, body),
    });
    expect(response.status).toBe(200);
    expect(h.controller.refreshCalls).toEqual([]);
    expect(await webhookCount(h, 'gitea', 'ignored')).toBe(1);
  });

  it('a ping with a wrong signature is still 401', async () => {
    const response = await post(h.base, '{}', {
      'x-github-event': 'ping',
      'x-hub-signature-256': `sha256=${'0'.repeat(64)}`,
    });
    expect(response.status).toBe(401);
  });

  it('malformed JSON with a valid signature is 400', async () => {
    const body = '{"ref": "refs/heads/main",';
    const response = await post(h.base, body, {
      'x-github-event': 'push',
      'x-hub-signature-256': `sha256=${hmacHex(SECRET, body)}`,
    });
    expect(response.status).toBe(400);
    expect(await json(response)).toEqual({ error: 'malformed JSON body' });
    expect(h.controller.refreshCalls).toEqual([]);
    expect(await webhookCount(h, 'github', 'invalid')).toBe(1);
  });

  it('a signed push without a ref is 400', async () => {
    const body = JSON.stringify({ after: 'abc' });
    const response = await post(h.base, body, { 'x-gogs-signature': hmacHex(SECRET, body) });
    expect(response.status).toBe(400);
    expect(h.controller.refreshCalls).toEqual([]);
  });

  it("accepts GitHub's form encoding (payload=<JSON>), signed over the encoded body", async () => {
    const body = new URLSearchParams({ payload: PUSH_MAIN }).toString();
    const response = await fetch(`${h.base}/api/v1/webhook`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-github-event': 'push',
        'x-hub-signature-256': `sha256=${hmacHex(SECRET, body)}`,
      },
      body,
    });
    expect(response.status).toBe(202);
    expect(h.controller.refreshCalls).toEqual(['webhook']);
  });

  it('a body of any content type is verified over its raw bytes', async () => {
    const body = Buffer.from(PUSH_MAIN, 'utf8');
    const response = await fetch(`${h.base}/api/v1/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', 'x-gitea-signature': hmacHex(SECRET, body) },
      body,
    });
    expect(response.status).toBe(202);
  });

  it('a refresh that fails does not change the answer', async () => {
    h.controller.refreshResult = () => Promise.reject(new Error('git fetch failed'));
    const response = await post(h.base, PUSH_MAIN, { 'x-gitea-signature': hmacHex(SECRET, PUSH_MAIN) });
    expect(response.status).toBe(202);
  });

  it('a body over 1 MiB is 413 and refreshes nothing', async () => {
    const body = JSON.stringify({ ref: 'refs/heads/main', pad: 'x'.repeat(1024 * 1024) });
    const response = await post(h.base, body, { 'x-hub-signature-256': `sha256=${hmacHex(SECRET, body)}` });
    expect(response.status).toBe(413);
    expect(h.controller.refreshCalls).toEqual([]);
  });

  it('200 signed pushes sent concurrently are all answered 202, each passed on to the controller', async () => {
    const started = Date.now();
    const statuses = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const body = JSON.stringify({ ref: 'refs/heads/main', after: `c0ffee${i}` });
        const response = await post(h.base, body, {
          'x-github-event': 'push',
          'x-hub-signature-256': `sha256=${hmacHex(SECRET, body)}`,
        });
        await response.arrayBuffer();
        return response.status;
      }),
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(statuses.filter((s) => s === 202)).toHaveLength(200);
    // Coalescing the burst into one fetch is the controller's job (its Coalescer); the API passes each on.
    expect(h.controller.refreshCalls).toHaveLength(200);
    expect(await webhookCount(h, 'github', 'accepted')).toBe(200);
  });

  it('200 concurrent pushes with a bad signature never reach the controller', async () => {
    const headers = { 'x-hub-signature-256': `sha256=${hmacHex('wrong', PUSH_MAIN)}` };
    const statuses = await Promise.all(
      Array.from({ length: 200 }, async () => (await post(h.base, PUSH_MAIN, headers)).status),
    );
    expect(new Set(statuses)).toEqual(new Set([401]));
    expect(h.controller.refreshCalls).toEqual([]);
  });
});

describe('replayed deliveries', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startServer({ webhookSecret: SECRET, gitlabToken: GITLAB_TOKEN });
  });
  afterEach(async () => {
    await h.close();
  });
  const github = (body: string, delivery: string): Record<string, string> => ({
    'x-github-event': 'push',
    'x-github-delivery': delivery,
    'x-hub-signature-256': `sha256=${hmacHex(SECRET, body)}`,
  });

  it('the same delivery id, or the same signed body under another id, is answered 200 and changes nothing', async () => {
    expect((await post(h.base, PUSH_MAIN, github(PUSH_MAIN, 'd-1'))).status).toBe(202);
    const again = await post(h.base, PUSH_MAIN, github(PUSH_MAIN, 'd-1'));
    expect([again.status, await json(again)]).toEqual([200, { duplicate: true }]);
    const renamed = await post(h.base, PUSH_MAIN, github(PUSH_MAIN, 'd-2'));
    expect([renamed.status, await json(renamed)]).toEqual([200, { duplicate: true }]);
    const other = JSON.stringify({ ref: 'refs/heads/main', after: 'another' });
    expect((await post(h.base, other, github(other, 'd-1'))).status).toBe(200);
    expect(h.controller.refreshCalls).toEqual(['webhook']);
    expect(await webhookCount(h, 'github', 'duplicate')).toBe(3);
    expect(h.logs.filter((l) => l['event'] === 'webhook.duplicate')).toHaveLength(3);
  });

  it('200 deliveries of one push: one refresh, 199 duplicates', async () => {
    const statuses = await Promise.all(
      Array.from(
        { length: 200 },
        async () => (await post(h.base, PUSH_MAIN, github(PUSH_MAIN, 'same'))).status,
      ),
    );
    expect(statuses.filter((s) => s === 202)).toHaveLength(1);
    expect(statuses.filter((s) => s === 200)).toHaveLength(199);
    expect(h.controller.refreshCalls).toEqual(['webhook']);
  });

  it('an unsigned request with a delivery id does not block the real delivery', async () => {
    const forged = { ...github(PUSH_MAIN, 'd-9'), 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` };
    expect((await post(h.base, PUSH_MAIN, forged)).status).toBe(401);
    expect((await post(h.base, PUSH_MAIN, github(PUSH_MAIN, 'd-9'))).status).toBe(202);
    expect(h.controller.refreshCalls).toEqual(['webhook']);
  });

  it('GitLab deliveries are told apart by their event UUID and body', async () => {
    const gitlab = {
      'x-gitlab-event': 'Push Hook',
      'x-gitlab-token': GITLAB_TOKEN,
      'x-gitlab-event-uuid': 'u-1',
    };
    expect((await post(h.base, PUSH_MAIN, gitlab)).status).toBe(202);
    expect((await post(h.base, PUSH_MAIN, gitlab)).status).toBe(200);
    expect(h.controller.refreshCalls).toEqual(['webhook']);
  });
});

describe('one secret per kind', () => {
  it('with only webhook.secret, GitLab deliveries are refused, naming webhook.gitlabToken', async () => {
    const h = await startServer({ webhookSecret: SECRET });
    try {
      const response = await post(h.base, PUSH_MAIN, {
        'x-gitlab-event': 'Push Hook',
        'x-gitlab-token': SECRET,
      });
      expect(response.status).toBe(401);
      expect(h.logs.find((l) => l['event'] === 'webhook.rejected')?.['reason']).toMatch(
        /webhook\.gitlabToken/,
      );
      expect(h.controller.refreshCalls).toEqual([]);
    } finally {
      await h.close();
    }
  });

  it('with only webhook.gitlabToken, the endpoint exists and HMAC providers are refused', async () => {
    const h = await startServer({ gitlabToken: GITLAB_TOKEN });
    try {
      const signed = await post(h.base, PUSH_MAIN, {
        'x-hub-signature-256': `sha256=${hmacHex(GITLAB_TOKEN, PUSH_MAIN)}`,
      });
      expect(signed.status).toBe(401);
      const gitlab = await post(h.base, PUSH_MAIN, {
        'x-gitlab-event': 'Push Hook',
        'x-gitlab-token': GITLAB_TOKEN,
      });
      expect(gitlab.status).toBe(202);
      expect(h.controller.refreshCalls).toEqual(['webhook']);
    } finally {
      await h.close();
    }
  });
});

describe('POST /api/v1/webhook without webhook.secret', () => {
  it('is 404, whatever the signature', async () => {
    const h = await startServer();
    try {
      const response = await post(h.base, PUSH_MAIN, { 'x-gitlab-token': '' });
      expect(response.status).toBe(404);
      expect(h.controller.refreshCalls).toEqual([]);
    } finally {
      await h.close();
    }
  });
});

describe('POST /api/v1/webhook with server.token', () => {
  it('needs no bearer token: the signature authenticates it', async () => {
    const h = await startServer({ webhookSecret: SECRET, token: 'api-token-0123456789' });
    try {
      const response = await post(h.base, PUSH_MAIN, { 'x-gitea-signature': hmacHex(SECRET, PUSH_MAIN) });
      expect(response.status).toBe(202);
    } finally {
      await h.close();
    }
  });
});

describe('POST /api/v1/webhook on another branch setting', () => {
  it('follows source.branch', async () => {
    const h = await startServer({ webhookSecret: SECRET, branch: 'feature' });
    try {
      expect(
        (await post(h.base, PUSH_OTHER, { 'x-gogs-signature': hmacHex(SECRET, PUSH_OTHER) })).status,
      ).toBe(202);
      expect(h.controller.refreshCalls).toEqual(['webhook']);
      const main = await post(h.base, PUSH_MAIN, { 'x-gogs-signature': hmacHex(SECRET, PUSH_MAIN) });
      expect(await json(main)).toMatchObject({ ignored: true });
      expect(h.controller.refreshCalls).toEqual(['webhook']);
    } finally {
      await h.close();
    }
  });
});
