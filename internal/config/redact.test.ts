import { describe, expect, it } from '@jest/globals';
import { REDACTED, displayConfig, loadConfig, redactConfig } from './index.js';

const SECRETS = [
  'src-token-abc123',
  'api-token-def456',
  'hook-secret-ghi789',
  'urlpass-jkl012',
  'registry-token-mno345',
  'scm-token-pqr678',
  'slack-path-stu901',
];

function configWithSecrets() {
  return loadConfig({
    env: {
      STACKD_SOURCE_URL: `https://deploy:${SECRETS[3] ?? ''}@git.example.com/org/stacks.git`,
      STACKD_SOURCE_USERNAME: 'deploy',
      STACKD_SOURCE_TOKEN: SECRETS[0],
      STACKD_API_TOKEN: SECRETS[1],
      STACKD_WEBHOOK_SECRET: SECRETS[2],
      STACKD_WEBHOOK_REGISTRY_TOKEN: SECRETS[4],
      STACKD_SCM_TOKEN: SECRETS[5],
      STACKD_NOTIFY_TARGETS: JSON.stringify([
        { name: 'chat', type: 'slack', url: `https://hooks.example.com/services/${SECRETS[6] ?? ''}` },
        { name: 'ops', type: 'webhook', urlFile: '/etc/stackd/ops-url', secretFile: '/etc/stackd/ops-key' },
      ]),
    },
  });
}

describe('redactConfig', () => {
  it('replaces every secret and strips credentials from the source URL', () => {
    const redacted = redactConfig(configWithSecrets());
    const text = JSON.stringify(redacted);
    for (const secret of SECRETS) expect(text).not.toContain(secret);
    expect(redacted.source.url).toBe('https://***@git.example.com/org/stacks.git');
    expect(redacted.source.auth).toEqual({
      username: 'deploy',
      token: REDACTED,
      sshKeyFile: '',
      knownHostsFile: '',
    });
    expect(redacted.server.token).toBe(REDACTED);
    expect(redacted.webhook.secret).toBe(REDACTED);
    expect(redacted.webhook.registryToken).toBe(REDACTED);
    expect(redacted.scm.token).toBe(REDACTED);
    // A target's URL may be its secret (Slack, Discord); names, types and file paths are shown.
    expect(redacted.notify.targets).toEqual([
      { name: 'chat', type: 'slack', url: REDACTED },
      { name: 'ops', type: 'webhook', urlFile: '/etc/stackd/ops-url', secretFile: '/etc/stackd/ops-key' },
    ]);
  });

  it('shows an unset secret as empty, so operators can tell it is not set', () => {
    const redacted = redactConfig(loadConfig({ env: {} }));
    expect(redacted.source.auth.token).toBe('');
    expect(redacted.server.token).toBe('');
    expect(redacted.webhook.secret).toBe('');
  });

  it('keeps everything else and does not touch its input', () => {
    const config = configWithSecrets();
    const redacted = redactConfig(config);
    expect(redacted.reconcile).toEqual(config.reconcile);
    expect(redacted.scope).toEqual(config.scope);
    expect(redacted.server.listen).toBe(config.server.listen);
    expect(config.server.token).toBe(SECRETS[1]);
  });

  it('leaves a URL without credentials alone', () => {
    const config = loadConfig({ env: { STACKD_SOURCE_URL: 'https://git.example.com/r.git' } });
    expect(redactConfig(config).source.url).toBe('https://git.example.com/r.git');
  });
});

describe('displayConfig', () => {
  it('never contains a secret value and shows durations as written', () => {
    const shown = displayConfig(configWithSecrets()) as {
      source: { pollInterval: string; url: string };
      reconcile: { timeout: string; resyncInterval: string };
    };
    const text = JSON.stringify(shown);
    for (const secret of SECRETS) expect(text).not.toContain(secret);
    expect(text).not.toContain('deploy:');
    expect(shown.source.pollInterval).toBe('1m');
    expect(shown.reconcile.timeout).toBe('3m');
    expect(shown.reconcile.resyncInterval).toBe('5m');
    expect(shown.source.url).toBe('https://***@git.example.com/org/stacks.git');
  });
});
