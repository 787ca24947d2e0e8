/**
 * Feedback where operators look (issue 15): notifications (notify.*) and commit statuses (scm.*),
 * wired to the reconciler's hooks. Nothing here blocks a reconcile: records go in, requests are
 * queued, and a target that fails or hangs is logged and counted, nothing else.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { realClock, type Clock } from '../../pkg/clock/index.js';
import type { Config } from '../config/index.js';
import { ConfigError } from '../config/index.js';
import type { NotifyTargetConfig } from '../config/notify.js';
import { LogEvent, type Logger } from '../log/index.js';
import type { StackRecord } from '../state/index.js';
import type { RevisionHash } from '../status/index.js';
import { CommitStatusReporter } from './commit_status.js';
import { Notices } from './notices.js';
import {
  DEFAULT_BACKOFF,
  DEFAULT_RETRIES,
  DEFAULT_TIMEOUT_MS,
  Delivery,
  type DeliveryDetail,
  type OnResult,
  renderNotification,
} from './notify/index.js';
import { CommitStatuses, defaultBaseUrl, repositoryFromUrl } from './scm/index.js';
import type { Notification, NotifyEvent, NotifyTarget, ScmTarget } from './types.js';
import { randomUUID } from 'node:crypto';

export { NOTIFY_EVENTS, type NotifyEvent } from './types.js';

/** Longest a stopping daemon waits for notifications still being delivered. */
export const SHUTDOWN_GRACE_MS = 5_000;

export interface FeedbackOptions {
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Counts deliveries (stackd_notifications_total, stackd_commit_statuses_total). */
  readonly count?: {
    notification(target: string, result: 'sent' | 'failed'): void;
    commitStatus(result: 'sent' | 'failed'): void;
  };
  /** Whether reconciles are queued or running: a burst's message waits for them (see Notices). */
  readonly busy?: () => boolean;
  /** Where `credential:` files are: systemd's $CREDENTIALS_DIRECTORY. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface Feedback {
  /** A stack's record was written (ReconcileHooks.onRecord). */
  record(id: string, record: StackRecord): void;
  /** An apply of the desired stack starts (ReconcileHooks.onApplyStart). */
  applyStarted(id: string, target: RevisionHash, driftOnly: boolean): void;
  /** The stacks recorded when stackd started: known, not news. */
  prime(recorded: Iterable<readonly [string, StackRecord]>): void;
  /** Sends the open batch and waits (at most SHUTDOWN_GRACE_MS) for what is being delivered. */
  close(): Promise<void>;
}

/** Reads a secret file: its content without the trailing newline; a ConfigError names the key. */
function readSecret(path: string, key: string): string {
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError(`${key}: cannot read ${JSON.stringify(path)} (${reason})`);
  }
}

/** notify.targets with their URLs and secrets read from their files; ConfigError on a bad one. */
export function resolveTargets(
  targets: readonly NotifyTargetConfig[],
  env: Readonly<Record<string, string | undefined>>,
): NotifyTarget[] {
  return targets.map((t, i) => {
    const key = `notify.targets[${i}] (${t.name})`;
    const url = t.urlFile === undefined ? (t.url ?? '') : readSecret(t.urlFile, `${key}.urlFile`).trim();
    if (!/^https?:\/\/[^/]/.test(url))
      throw new ConfigError(`${key}: the URL (of urlFile) is not an http(s) URL`);
    let secret = '';
    if (t.secretFile !== undefined) secret = readSecret(t.secretFile, `${key}.secretFile`);
    if (t.credential !== undefined) {
      const dir = env['CREDENTIALS_DIRECTORY'];
      if (dir === undefined || dir === '')
        throw new ConfigError(
          `${key}.credential: $CREDENTIALS_DIRECTORY is not set (systemd's LoadCredential=)`,
        );
      secret = readSecret(join(dir, t.credential), `${key}.credential`);
    }
    return {
      name: t.name,
      type: t.type,
      url,
      secret,
      ...(t.events === undefined ? {} : { events: t.events }),
    };
  });
}

/** scm.* as a target; null when scm.commitStatus is off. ConfigError when it cannot be derived. */
export function resolveScm(config: Config): ScmTarget | null {
  const provider = config.scm.commitStatus;
  if (provider === 'off') return null;
  const baseUrl = config.scm.url || defaultBaseUrl(provider, config.source.url);
  if (baseUrl === undefined)
    throw new ConfigError(`scm.url: required with scm.commitStatus=${provider}: source.url names no forge`);
  const repository = config.scm.repository || repositoryFromUrl(config.source.url);
  if (repository === undefined)
    throw new ConfigError(
      `scm.repository: required with scm.commitStatus=${provider}: source.url names no owner/repo`,
    );
  if (config.scm.token === '')
    throw new ConfigError(
      `scm.token: required with scm.commitStatus=${provider} (STACKD_SCM_TOKEN_FILE, or the scm-token credential)`,
    );
  return {
    provider,
    baseUrl: baseUrl.replace(/\/+$/, ''),
    repository,
    token: config.scm.token,
    targetUrl: config.scm.targetUrl,
  };
}

/** Notifications and commit statuses as configured; null when neither is. */
export function createFeedback(config: Config, options: FeedbackOptions): Feedback | null {
  const targets = resolveTargets(config.notify.targets, options.env ?? process.env);
  const scm = resolveScm(config);
  if (targets.length === 0 && scm === null) return null;
  const { logger } = options;
  const clock = options.clock ?? realClock;
  // One schedule for both kinds of request (notify/deliver.ts's defaults); each its own queues.
  const deliveries = (onResult: OnResult): Delivery =>
    new Delivery({
      clock,
      timeoutMs: DEFAULT_TIMEOUT_MS,
      retries: DEFAULT_RETRIES,
      backoff: DEFAULT_BACKOFF,
      onResult,
    });
  /** What a given-up delivery's warning carries (never the URL: detail.error has none). */
  const failure = (detail: DeliveryDetail): Record<string, unknown> => ({
    attempts: detail.attempts,
    ...(detail.status === undefined ? {} : { status: detail.status }),
    error: detail.error ?? 'unknown',
  });
  const delivery = deliveries((target, result, detail) => {
    options.count?.notification(target, result);
    if (result === 'sent')
      logger.info(`notification sent to ${target}`, {
        event: LogEvent.notifySent,
        target,
        attempts: detail.attempts,
      });
    else
      logger.warn(`notification to ${target} failed: ${detail.error ?? 'unknown'}`, {
        event: LogEvent.notifyFailed,
        target,
        ...failure(detail),
      });
  });
  const defaults = new Set<NotifyEvent>(config.notify.events);
  const events = new Set<NotifyEvent>();
  for (const t of targets) for (const e of t.events ?? defaults) events.add(e);
  const send = (n: Notification): void => {
    for (const t of targets) {
      if (!(t.events ?? config.notify.events).includes(n.event)) continue;
      delivery.send(t.name, renderNotification(t, n, randomUUID()));
    }
  };
  const notices = new Notices({
    instance: config.instance,
    clock,
    repeatIntervalMs: config.notify.repeatInterval,
    batchWindowMs: config.notify.batchWindow,
    events,
    send,
    ...(options.busy === undefined ? {} : { busy: options.busy }),
  });

  let statusDelivery: Delivery | undefined;
  let statuses: CommitStatuses | undefined;
  let reporter: CommitStatusReporter | undefined;
  if (scm !== null) {
    statusDelivery = deliveries((_target, result, detail) => {
      options.count?.commitStatus(result);
      if (result === 'sent')
        logger.debug('commit status posted', {
          event: LogEvent.scmStatusSent,
          provider: scm.provider,
          attempts: detail.attempts,
        });
      else
        logger.warn(`commit status to ${scm.provider} failed: ${detail.error ?? 'unknown'}`, {
          event: LogEvent.scmStatusFailed,
          provider: scm.provider,
          ...failure(detail),
        });
    });
    const client = new CommitStatuses({ target: scm, delivery: statusDelivery, clock });
    statuses = client;
    reporter = new CommitStatusReporter({
      instance: config.instance,
      post: (s) => {
        client.post(s);
      },
    });
  }
  return {
    record(id, record) {
      if (targets.length > 0) notices.record(id, record);
      reporter?.record(id, record);
    },
    applyStarted(id, target, driftOnly) {
      notices.attempt(id, target.revision);
      reporter?.applyStarted(id, target, driftOnly);
    },
    prime(recorded) {
      notices.prime(recorded);
    },
    async close() {
      notices.flush();
      const idle = Promise.all([delivery.idle(), statuses?.idle()]);
      let timer: unknown;
      await Promise.race([
        idle,
        new Promise<void>((resolve) => (timer = clock.setTimeout(resolve, SHUTDOWN_GRACE_MS))),
      ]);
      clock.clearTimeout(timer);
      delivery.close();
      statuses?.close();
      statusDelivery?.close();
    },
  };
}
