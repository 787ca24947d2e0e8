/**
 * createFeedback as the daemon wires it (its config read by loadConfig, secrets from files and a
 * systemd credential directory), driven with the records and attempts the reconciler reports,
 * against real loopback receivers: the GitHub, Gitea and GitLab commit status API fakes and a
 * webhook target.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../config/index.js';
import { memoryLogger } from '../log/memory.test-helpers.js';
import type { StackRecord } from '../state/index.js';
import { stackRecord as record } from '../state/record.test-helpers.js';
import { type Receiver, scmRoutes, startReceiver } from '../../test/helpers/receiver.js';
import { createFeedback } from './index.js';
import { verifyWebhookSignature } from './notify/index.js';
import type { Notification } from './types.js';

const TOKEN = 'scm-token-0123456789';
const HMAC = 'hmac-key-0123456789abcdef';
const SHA = 'c'.repeat(40);
const REPOSITORY = { github: 'acme/stacks', gitea: 'acme/stacks', gitlab: 'acme/infra/stacks' } as const;
const PATHS = {
  github: `/repos/acme/stacks/statuses/${SHA}`,
  gitea: `/api/v1/repos/acme/stacks/statuses/${SHA}`,
  gitlab: `/api/v4/projects/acme%2Finfra%2Fstacks/statuses/${SHA}`,
} as const;

let dir: string;
let forge: Receiver;
let hook: Receiver;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stackd-feedback-'));
  await writeFile(join(dir, 'scm-token'), `${TOKEN}\n`);
  await writeFile(join(dir, 'notify-ops'), `${HMAC}\n`);
  [forge, hook] = await Promise.all([startReceiver(), startReceiver()]);
});
afterAll(async () => {
  await Promise.all([forge.close(), hook.close()]);
  await rm(dir, { recursive: true, force: true });
});

describe.each(['github', 'gitea', 'gitlab'] as const)(
  'commit statuses through createFeedback: %s',
  (provider) => {
    it('pending then success for a changed stack, failure with the message for a failing one, none for an untouched one', async () => {
      forge.requests.length = 0;
      forge.respond(scmRoutes(provider, { token: TOKEN, repository: REPOSITORY[provider] }));
      const config = loadConfig({
        env: {
          STACKD_SOURCE_URL: `https://git.example.com/${REPOSITORY[provider]}.git`,
          STACKD_INSTANCE: 'host1',
          STACKD_SCM_COMMIT_STATUS: provider,
          STACKD_SCM_URL: forge.url,
          STACKD_SCM_TOKEN_FILE: join(dir, 'scm-token'),
        },
      });
      const { logger, lines } = memoryLogger();
      const counted: string[] = [];
      const feedback = createFeedback(config, {
        logger,
        count: { notification: () => undefined, commitStatus: (r) => counted.push(r) },
      });
      if (feedback === null) throw new Error('no feedback');
      const target = { revision: SHA, composeHash: 'sha256:new' };
      feedback.applyStarted('apps/web', target, false);
      feedback.applyStarted('apps/db', target, false);
      // An apply takes a while: the pending statuses go out before the verdicts (a verdict that
      // comes while its pending still waits replaces it: the forge sees only the verdict).
      await forge.waitFor((all) => all.length >= 2);
      feedback.record('apps/web', record({ status: 'synced', synced: { ...target, at: 'x' } }));
      feedback.record(
        'apps/db',
        record({ status: 'failed', message: `service db exited with code 1 ${'x'.repeat(400)}` }),
      );
      feedback.record('apps/cache', record({ status: 'synced', synced: { ...target, at: 'x' } }));
      await forge.waitFor((all) => all.length >= 4);
      await feedback.close();
      const sent = forge.requests.map((q): Record<string, unknown> => ({
        path: q.path,
        ...(q.json() as Record<string, unknown>),
      }));
      const contextKey = provider === 'gitlab' ? 'name' : 'context';
      const of = (id: string) => sent.filter((s) => s[contextKey] === `stackd/host1/${id}`);
      const failure = provider === 'gitlab' ? 'failed' : 'failure';
      expect(of('apps/web').map((s) => s['state'])).toEqual(['pending', 'success']);
      expect(of('apps/db').map((s) => s['state'])).toEqual(['pending', failure]);
      expect(String(of('apps/db')[1]?.['description'])).toMatch(/^service db exited with code 1 x+…$/);
      expect(String(of('apps/db')[1]?.['description']).length).toBe(provider === 'github' ? 140 : 255);
      expect(of('apps/cache')).toEqual([]);
      expect(new Set(sent.map((s) => s['path']))).toEqual(new Set([PATHS[provider]]));
      expect(counted).toEqual(['sent', 'sent', 'sent', 'sent']);
      expect(JSON.stringify(await lines())).not.toContain(TOKEN);
    });
  },
);

describe('notifications through createFeedback', () => {
  it('reads the secret from a systemd credential, batches, signs; a bad target file stops the start naming it', async () => {
    hook.requests.length = 0;
    const config = loadConfig({
      env: {
        STACKD_INSTANCE: 'host1',
        STACKD_NOTIFY_BATCH_WINDOW: '100ms',
        STACKD_NOTIFY_TARGETS: JSON.stringify([
          { name: 'ops', type: 'webhook', url: `${hook.url}/in`, credential: 'notify-ops' },
        ]),
      },
    });
    const { logger, lines } = memoryLogger();
    const feedback = createFeedback(config, { logger, env: { CREDENTIALS_DIRECTORY: dir } });
    if (feedback === null) throw new Error('no feedback');
    feedback.prime([['apps/old', record({ status: 'failed', message: 'known' })]]);
    const failed = (message: string): StackRecord =>
      record({
        status: 'failed',
        message,
        history: [
          {
            outcome: 'failure',
            at: new Date().toISOString(),
            message,
            durationMs: 1,
            revision: SHA,
            composeHash: 'h',
            action: 'update',
          },
        ],
      });
    feedback.record('apps/a', failed('broken a'));
    feedback.record('apps/b', failed('broken b'));
    feedback.record('apps/old', failed('known'));
    const [request] = await hook.waitFor((all) => all.length >= 1);
    await feedback.close();
    const n = request?.json() as Notification;
    expect(n.event).toBe('failed');
    expect(n.stacks.map((s) => [s.id, s.message, s.revision])).toEqual([
      ['apps/a', 'broken a', SHA],
      ['apps/b', 'broken b', SHA],
    ]);
    expect(
      verifyWebhookSignature(HMAC, request?.body ?? '', request?.headers['x-stackd-signature-256']),
    ).toBe(true);
    expect(hook.requests).toHaveLength(1);
    expect(await lines()).toContainEqual(expect.objectContaining({ event: 'notify.sent', target: 'ops' }));

    const missing = loadConfig({
      env: {
        STACKD_NOTIFY_TARGETS: JSON.stringify([{ name: 'chat', type: 'slack', urlFile: join(dir, 'nope') }]),
      },
    });
    expect(() => createFeedback(missing, { logger })).toThrow(ConfigError);
    expect(() => createFeedback(missing, { logger })).toThrow(
      /notify\.targets\[0\] \(chat\)\.urlFile: cannot read .*nope.*ENOENT/,
    );
    const noToken = loadConfig({
      env: { STACKD_SCM_COMMIT_STATUS: 'github', STACKD_SOURCE_URL: 'https://github.com/a/b.git' },
    });
    expect(() => createFeedback(noToken, { logger })).toThrow(
      /scm\.token: required with scm\.commitStatus=github/,
    );
    const local = loadConfig({
      env: { STACKD_SCM_COMMIT_STATUS: 'gitea', STACKD_SOURCE_URL: '/srv/stacks', STACKD_SCM_TOKEN: 't' },
    });
    expect(() => createFeedback(local, { logger })).toThrow(/scm\.url: required/);
  });
});
