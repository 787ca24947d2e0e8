/**
 * Every log event name, in one place (like labels, metrics and statuses): a line's `event` field
 * is always one of these, and the README's table lists them. Use them as `LogEvent.reconcileStart`.
 */
export const LogEvent = {
  reconcileStart: 'reconcile.start',
  reconcileSuccess: 'reconcile.success',
  reconcileFailure: 'reconcile.failure',
  reconcileSkip: 'reconcile.skip',
  reconcileBuild: 'reconcile.build',
  reconcileRollback: 'reconcile.rollback',
  reconcileCrashLoop: 'reconcile.crashloop',
  reconcilePaused: 'reconcile.paused',
  reconcileResumed: 'reconcile.resumed',
  stackForgotten: 'stack.forgotten',
  stackSuspended: 'stack.suspended',
  stackResumed: 'stack.resumed',
  secretsDecrypted: 'secrets.decrypted',
  sourceFetch: 'source.fetch',
  sourceRetry: 'source.retry',
  sourceCached: 'source.cached',
  sourceCache: 'source.cache',
  sourceListener: 'source.listener',
  sourceRootCompose: 'source.root_compose',
  webhookAccepted: 'webhook.accepted',
  webhookIgnored: 'webhook.ignored',
  webhookPing: 'webhook.ping',
  webhookRejected: 'webhook.rejected',
  webhookInvalid: 'webhook.invalid',
  webhookDuplicate: 'webhook.duplicate',
  apiRefused: 'api.refused',
  apiRefresh: 'api.refresh',
  eventsOpened: 'events.opened',
  eventsClosed: 'events.closed',
  httpError: 'http.error',
  serverListening: 'server.listening',
  composeDetected: 'compose.detected',
  composeUnavailable: 'compose.unavailable',
  composeIgnored: 'compose.ignored',
  composeReaped: 'compose.reaped',
  composeRun: 'compose.run',
  registryLogins: 'registry.logins',
  imagesDigest: 'images.digest',
  imagesCheckFailed: 'images.check_failed',
  imagesPulled: 'images.pulled',
  imagesPullFailed: 'images.pull_failed',
  notifySent: 'notify.sent',
  notifyFailed: 'notify.failed',
  scmStatusSent: 'scm.status_sent',
  scmStatusFailed: 'scm.status_failed',
  engineConnected: 'engine.connected',
  engineUnreachable: 'engine.unreachable',
  informerLagging: 'informer.lagging',
  informerListener: 'informer.listener',
  runtimeStalled: 'runtime.stalled',
  runtimeRecovered: 'runtime.recovered',
  stateMissing: 'state.missing',
  stateCorrupt: 'state.corrupt',
  stateWriteFailed: 'state.write_failed',
  stateLockStale: 'state.lock_stale',
  stateLockFailed: 'state.lock_failed',
  daemonStart: 'daemon.start',
  daemonStop: 'daemon.stop',
  daemonStopped: 'daemon.stopped',
  daemonFatal: 'daemon.fatal',
  commandFatal: 'command.fatal',
} as const;

/** A log event name. */
export type LogEventName = (typeof LogEvent)[keyof typeof LogEvent];

/**
 * The fields of one line: `event` is required, so a call without it does not type-check (every
 * logger interface in stackd takes this, see `Logger` in logger.ts).
 */
export type LogMeta = { readonly event: LogEventName } & Readonly<Record<string, unknown>>;

/** The levels stackd logs at, most severe first. */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
