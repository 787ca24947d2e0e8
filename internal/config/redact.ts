/** The effective configuration with every secret replaced, for `stackd config` and logs. */
import type { Config } from './load.js';
import { formatDuration } from './formats.js';
import { redactUrl } from '../log/redact.js';

export const REDACTED = '[redacted]';

export function redactConfig(config: Config): Config {
  const secret = (value: string): string => (value === '' ? '' : REDACTED);
  return {
    ...config,
    source: {
      ...config.source,
      url: redactUrl(config.source.url),
      // The SSH key and known_hosts are paths, not secrets: shown.
      auth: { ...config.source.auth, token: secret(config.source.auth.token) },
    },
    server: { ...config.server, token: secret(config.server.token) },
    webhook: {
      secret: secret(config.webhook.secret),
      gitlabToken: secret(config.webhook.gitlabToken),
      registryToken: secret(config.webhook.registryToken),
    },
    // A target's URL may hold its token (Slack, Discord): only names, types and files are shown.
    notify: {
      ...config.notify,
      targets: config.notify.targets.map((t) => ({
        ...t,
        ...(t.url === undefined ? {} : { url: REDACTED }),
      })),
    },
    scm: { ...config.scm, token: secret(config.scm.token) },
  };
}

/** Durations as operators write them (`60s`), for printing. */
export function displayConfig(config: Config): unknown {
  const redacted = redactConfig(config);
  return {
    ...redacted,
    source: {
      ...redacted.source,
      pollInterval: formatDuration(redacted.source.pollInterval),
      fetchTimeout: formatDuration(redacted.source.fetchTimeout),
    },
    reconcile: {
      ...redacted.reconcile,
      timeout: formatDuration(redacted.reconcile.timeout),
      minReady: formatDuration(redacted.reconcile.minReady),
      resyncInterval: formatDuration(redacted.reconcile.resyncInterval),
    },
    notify: {
      ...redacted.notify,
      repeatInterval: formatDuration(redacted.notify.repeatInterval),
      batchWindow: formatDuration(redacted.notify.batchWindow),
    },
  };
}
