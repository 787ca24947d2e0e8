import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';

import { realClock } from '../../../pkg/clock/index.js';
import { FakeClock } from '../../../pkg/clock/fake.js';
import { scmRoutes, startReceiver, type Receiver } from '../../../test/helpers/receiver.js';
import { Delivery, type DeliveryDetail } from '../notify/deliver.js';
import type { CommitStatus, DeliveryResult, OutboundRequest, ScmProvider, ScmTarget } from '../types.js';
import { DESCRIPTION_LIMITS, commitStatusRequest, defaultBaseUrl, repositoryFromUrl } from './status.js';
import { CommitStatuses } from './statuses.js';

const SHA = '4f2c1e0d9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e';
const TOKEN = 'tok-123456';
const REPOSITORY: Record<ScmProvider, string> = {
  github: 'acme/infra',
  gitea: 'acme/infra',
  gitlab: 'acme/ops/infra',
};

let receiver: Receiver;
let results: [string, DeliveryResult, DeliveryDetail][];

function target(provider: ScmProvider, over: Partial<ScmTarget> = {}): ScmTarget {
  return {
    provider,
    baseUrl: receiver.url,
    repository: REPOSITORY[provider],
    token: TOKEN,
    targetUrl: 'https://stackd.example/stacks',
    ...over,
  };
}

function status(over: Partial<CommitStatus> = {}): CommitStatus {
  return { sha: SHA, context: 'stackd/prod/apps/web', state: 'pending', description: 'applying', ...over };
}

function delivery(): Delivery {
  return new Delivery({
    clock: realClock,
    timeoutMs: 2000,
    retries: 2,
    backoff: { baseMs: 5, maxMs: 20 },
    onResult: (name, result, detail) => results.push([name, result, detail]),
  });
}

beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(async () => {
  await receiver.close();
});
beforeEach(() => {
  receiver.requests.length = 0;
  results = [];
});

const expectedPath: Record<ScmProvider, string> = {
  github: `/repos/acme/infra/statuses/${SHA}`,
  gitea: `/api/v1/repos/acme/infra/statuses/${SHA}`,
  gitlab: `/api/v4/projects/acme%2Fops%2Finfra/statuses/${SHA}`,
};

describe.each(['github', 'gitea', 'gitlab'] as const)('%s commit statuses', (provider) => {
  beforeEach(() => {
    receiver.respond(scmRoutes(provider, { token: TOKEN, repository: REPOSITORY[provider] }));
  });

  it('posts pending then success, answered 201', async () => {
    const d = delivery();
    const statuses = new CommitStatuses({
      target: target(provider),
      delivery: d,
      clock: realClock,
      minIntervalMs: 5,
    });
    statuses.post(status());
    await statuses.idle();
    statuses.post(status({ state: 'success', description: 'synced' }));
    await statuses.idle();
    expect(results).toEqual([
      [`scm:${provider}`, 'sent', { attempts: 1, status: 201 }],
      [`scm:${provider}`, 'sent', { attempts: 1, status: 201 }],
    ]);
    expect(receiver.requests.map((r) => [r.method, r.path])).toEqual([
      ['POST', expectedPath[provider]],
      ['POST', expectedPath[provider]],
    ]);
    const bodies = receiver.requests.map((r) => r.json());
    if (provider === 'gitlab') {
      expect(receiver.requests[0]!.headers['private-token']).toBe(TOKEN);
      expect(bodies).toEqual([
        {
          state: 'pending',
          name: 'stackd/prod/apps/web',
          description: 'applying',
          target_url: 'https://stackd.example/stacks',
        },
        {
          state: 'success',
          name: 'stackd/prod/apps/web',
          description: 'synced',
          target_url: 'https://stackd.example/stacks',
        },
      ]);
    } else {
      const headers = receiver.requests[0]!.headers;
      if (provider === 'github') {
        expect(headers).toMatchObject({
          authorization: `Bearer ${TOKEN}`,
          accept: 'application/vnd.github+json',
          'x-github-api-version': '2022-11-28',
          'user-agent': 'stackd',
        });
      } else {
        expect(headers['authorization']).toBe(`token ${TOKEN}`);
      }
      expect(bodies).toEqual([
        {
          state: 'pending',
          target_url: 'https://stackd.example/stacks',
          description: 'applying',
          context: 'stackd/prod/apps/web',
        },
        {
          state: 'success',
          target_url: 'https://stackd.example/stacks',
          description: 'synced',
          context: 'stackd/prod/apps/web',
        },
      ]);
    }
    for (const r of receiver.requests) expect(r.path).not.toContain(TOKEN);
  });

  it('truncates a long failure to the provider limit (in characters) and maps failure', async () => {
    const d = delivery();
    const long = `ünïcödé 🚀 ${'compose up failed: '.repeat(40)}`;
    d.send(
      's',
      commitStatusRequest(
        target(provider, { targetUrl: '' }),
        status({ state: 'failure', description: long }),
      ),
    );
    await d.idle();
    expect(results).toEqual([['s', 'sent', { attempts: 1, status: 201 }]]);
    const body = receiver.requests[0]!.json() as Record<string, unknown>;
    const description = body['description'] as string;
    expect(Array.from(description)).toHaveLength(DESCRIPTION_LIMITS[provider]);
    expect(description.endsWith('…')).toBe(true);
    expect(description.startsWith('ünïcödé 🚀 compose')).toBe(true);
    expect(body['state']).toBe(provider === 'gitlab' ? 'failed' : 'failure');
    expect('target_url' in body).toBe(false);
  });

  it('reports a wrong token (401) as failed, without retrying', async () => {
    const d = delivery();
    d.send('s', commitStatusRequest(target(provider, { token: 'wrong' }), status()));
    await d.idle();
    expect(results).toEqual([['s', 'failed', { attempts: 1, status: 401, error: 'HTTP 401' }]]);
  });

  it('the fake refuses a wrong path (404) and a bad state', async () => {
    const d = delivery();
    d.send('s', commitStatusRequest(target(provider, { baseUrl: `${receiver.url}/nope` }), status()));
    d.send('s', commitStatusRequest(target(provider, { repository: 'acme/other' }), status()));
    const good = commitStatusRequest(target(provider), status());
    const body = { ...(JSON.parse(good.body) as Record<string, unknown>), state: 'done' };
    d.send('s', { ...good, body: JSON.stringify(body) });
    await d.idle();
    // GitLab answers invalid parameters with 400; GitHub and Gitea with 422.
    expect(results.map((r) => r[2].status)).toEqual([404, 404, provider === 'gitlab' ? 400 : 422]);
  });
});

describe('repositoryFromUrl', () => {
  it.each([
    ['https://github.com/acme/infra', 'acme/infra'],
    ['https://github.com/acme/infra.git', 'acme/infra'],
    ['https://user:secret@github.com/acme/infra.git/', 'acme/infra'],
    ['http://gitea.local:3000/acme/infra.git', 'acme/infra'],
    ['ssh://git@github.com/acme/infra.git', 'acme/infra'],
    ['ssh://git@gitlab.example.com:2222/group/sub/project.git', 'group/sub/project'],
    ['git@github.com:acme/infra.git', 'acme/infra'],
    ['gitlab.example.com:group/sub/project', 'group/sub/project'],
  ])('%s → %s', (url, expected) => {
    expect(repositoryFromUrl(url)).toBe(expected);
  });

  it.each([
    'file:///srv/git/infra.git',
    '/srv/git/infra',
    './infra',
    'C:\\git\\infra',
    'https://github.com/acme',
    '',
  ])('%s → undefined', (url) => {
    expect(repositoryFromUrl(url)).toBeUndefined();
  });
});

describe('defaultBaseUrl', () => {
  it.each([
    ['github', 'https://github.com/acme/infra.git', 'https://api.github.com'],
    ['github', 'git@github.com:acme/infra.git', 'https://api.github.com'],
    ['github', 'https://ghe.corp.example/acme/infra', 'https://ghe.corp.example/api/v3'],
    ['github', 'git@ghe.corp.example:acme/infra.git', 'https://ghe.corp.example/api/v3'],
    ['gitea', 'https://user:pw@gitea.example.com/acme/infra.git', 'https://gitea.example.com'],
    ['gitea', 'http://gitea.local:3000/acme/infra.git', 'http://gitea.local:3000'],
    ['gitea', 'ssh://git@gitea.example.com:2222/acme/infra.git', 'https://gitea.example.com'],
    ['gitlab', 'git@gitlab.example.com:group/sub/project.git', 'https://gitlab.example.com'],
  ] as const)('%s %s → %s', (provider, url, expected) => {
    expect(defaultBaseUrl(provider, url)).toBe(expected);
  });

  it('is undefined for local sources', () => {
    expect(defaultBaseUrl('gitea', 'file:///srv/git/infra.git')).toBeUndefined();
    expect(defaultBaseUrl('github', '/srv/git/infra')).toBeUndefined();
  });
});

describe('CommitStatuses on a FakeClock', () => {
  interface Sent {
    readonly at: number;
    readonly name: string;
    readonly body: Record<string, unknown>;
  }

  function setup(minIntervalMs = 200): { clock: FakeClock; statuses: CommitStatuses; sent: Sent[] } {
    const clock = new FakeClock();
    const sent: Sent[] = [];
    const sender = {
      send(name: string, request: OutboundRequest): void {
        sent.push({ at: clock.now(), name, body: JSON.parse(request.body) as Record<string, unknown> });
      },
    };
    const scm: ScmTarget = {
      provider: 'github',
      baseUrl: 'https://api.github.com',
      repository: 'a/b',
      token: 't',
      targetUrl: '',
    };
    return {
      clock,
      statuses: new CommitStatuses({ target: scm, delivery: sender, clock, minIntervalMs }),
      sent,
    };
  }

  it('sends at most one request per minIntervalMs', () => {
    const { clock, statuses, sent } = setup();
    for (const context of ['c1', 'c2', 'c3']) statuses.post(status({ context }));
    expect(sent.map((s) => [s.at, s.body['context']])).toEqual([[0, 'c1']]);
    clock.advance(199);
    expect(sent).toHaveLength(1);
    clock.advance(1000);
    expect(sent.map((s) => [s.at, s.body['context']])).toEqual([
      [0, 'c1'],
      [200, 'c2'],
      [400, 'c3'],
    ]);
    clock.advance(50);
    statuses.post(status({ context: 'c4' }));
    expect(sent.at(-1)).toMatchObject({ at: 1249, body: { context: 'c4' } });
  });

  it('coalesces waiting states of one (sha, context) into the latest', () => {
    const { clock, statuses, sent } = setup();
    statuses.post(status({ context: 'busy' }));
    statuses.post(status({ state: 'pending', description: 'applying' }));
    statuses.post(status({ state: 'failure', description: 'boom' }));
    statuses.post(status({ sha: 'b'.repeat(40), state: 'pending' }));
    statuses.post(status({ state: 'success', description: 'synced' }));
    clock.advance(1000);
    expect(sent.map((s) => [s.at, s.body['context'], s.body['state']])).toEqual([
      [0, 'busy', 'pending'],
      [200, 'stackd/prod/apps/web', 'success'],
      [400, 'stackd/prod/apps/web', 'pending'],
    ]);
  });

  it('sends an identical consecutive state once', () => {
    const { clock, statuses, sent } = setup();
    statuses.post(status({ state: 'success', description: 'synced' }));
    clock.advance(500);
    statuses.post(status({ state: 'success', description: 'synced' }));
    clock.advance(500);
    expect(sent).toHaveLength(1);
    // Failure then success again, both waiting: back to what was sent, nothing to say.
    statuses.post(status({ context: 'other' }));
    statuses.post(status({ state: 'failure', description: 'boom' }));
    statuses.post(status({ state: 'success', description: 'synced' }));
    clock.advance(1000);
    expect(sent.map((s) => s.body['context'])).toEqual(['stackd/prod/apps/web', 'other']);
    statuses.post(status({ state: 'success', description: 'synced again' }));
    clock.advance(1000);
    expect(sent).toHaveLength(3);
  });

  it('idle resolves once the queue drained; close drops what waits', async () => {
    const { clock, statuses, sent } = setup();
    statuses.post(status({ context: 'a' }));
    statuses.post(status({ context: 'b' }));
    let idle = false;
    const done = statuses.idle().then(() => {
      idle = true;
    });
    await clock.advanceAsync(100);
    expect(idle).toBe(false);
    await clock.advanceAsync(100);
    await done;
    expect(sent).toHaveLength(2);

    // b went at 200: c and d wait for 400, and close drops them.
    statuses.post(status({ context: 'c' }));
    statuses.post(status({ context: 'd' }));
    statuses.close();
    await statuses.idle();
    clock.advance(1000);
    expect(sent.map((s) => s.body['context'])).toEqual(['a', 'b']);
    expect(clock.pendingTimers).toBe(0);
    statuses.post(status({ context: 'e' }));
    expect(sent).toHaveLength(2);
  });
});
