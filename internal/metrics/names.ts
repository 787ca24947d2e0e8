/**
 * Every metric name stackd exports (DESIGN.md §5, prefix `stackd_`) and the label values it uses,
 * as literal constants so the contract is greppable in one place. Names marked "addition" are not
 * in DESIGN.md §5; they extend it without renaming anything.
 */

export const STACK_STATUS = 'stackd_stack_status';
/** Addition: 1 while a stack is suspended (x-stackd.suspend or the API), else 0. */
export const STACK_SUSPENDED = 'stackd_stack_suspended';
export const STACK_LAST_SYNC_TIMESTAMP_SECONDS = 'stackd_stack_last_sync_timestamp_seconds';
export const RECONCILE_TOTAL = 'stackd_reconcile_total';
export const RECONCILE_DURATION_SECONDS = 'stackd_reconcile_duration_seconds';
/** Addition: automatic rollbacks (`reconcile.rollback`) of a stack, by result. */
export const ROLLBACKS_TOTAL = 'stackd_rollbacks_total';
/** Addition: `compose build` runs of an apply's changed `build:` services, by result. */
export const BUILDS_TOTAL = 'stackd_builds_total';
/** Watched services (image updates) whose registry serves a digest they do not run: 1, else 0. */
export const IMAGE_UPDATE_AVAILABLE = 'stackd_image_update_available';
/** Registry digest checks of watched tags, by result (success, failure). */
export const IMAGE_CHECKS_TOTAL = 'stackd_image_checks_total';
/** Notifications delivered (`sent`) or given up (`failed`) per target (notify.targets), by result. */
export const NOTIFICATIONS_TOTAL = 'stackd_notifications_total';
/** Commit statuses posted to the forge (scm.commitStatus), by result (sent, failed). */
export const COMMIT_STATUSES_TOTAL = 'stackd_commit_statuses_total';
export const SOURCE_FETCH_TOTAL = 'stackd_source_fetch_total';
export const SOURCE_FETCH_DURATION_SECONDS = 'stackd_source_fetch_duration_seconds';
export const SOURCE_REVISION_INFO = 'stackd_source_revision_info';
/** Addition: when the last fetch succeeded, for "age of the last good fetch" alerts. */
export const SOURCE_LAST_SUCCESS_TIMESTAMP_SECONDS = 'stackd_source_last_success_timestamp_seconds';
export const WEBHOOK_REQUESTS_TOTAL = 'stackd_webhook_requests_total';
export const RUNTIME_UP = 'stackd_runtime_up';
/** Addition: open `GET /api/v1/events` streams (the status page). */
export const EVENT_STREAMS = 'stackd_event_streams';
export const WORKQUEUE_DEPTH = 'stackd_workqueue_depth';
export const WORKQUEUE_ADDS_TOTAL = 'stackd_workqueue_adds_total';
export const WORKQUEUE_QUEUE_DURATION_SECONDS = 'stackd_workqueue_queue_duration_seconds';
export const WORKQUEUE_WORK_DURATION_SECONDS = 'stackd_workqueue_work_duration_seconds';
export const WORKQUEUE_RETRIES_TOTAL = 'stackd_workqueue_retries_total';
export const WORKQUEUE_LONGEST_RUNNING_PROCESSOR_SECONDS =
  'stackd_workqueue_longest_running_processor_seconds';

/** Every stackd metric name (prom-client's default process metrics come on top). */
export const METRIC_NAMES = [
  STACK_STATUS,
  STACK_SUSPENDED,
  STACK_LAST_SYNC_TIMESTAMP_SECONDS,
  RECONCILE_TOTAL,
  RECONCILE_DURATION_SECONDS,
  ROLLBACKS_TOTAL,
  BUILDS_TOTAL,
  IMAGE_UPDATE_AVAILABLE,
  IMAGE_CHECKS_TOTAL,
  NOTIFICATIONS_TOTAL,
  COMMIT_STATUSES_TOTAL,
  SOURCE_FETCH_TOTAL,
  SOURCE_FETCH_DURATION_SECONDS,
  SOURCE_REVISION_INFO,
  SOURCE_LAST_SUCCESS_TIMESTAMP_SECONDS,
  WEBHOOK_REQUESTS_TOTAL,
  RUNTIME_UP,
  EVENT_STREAMS,
  WORKQUEUE_DEPTH,
  WORKQUEUE_ADDS_TOTAL,
  WORKQUEUE_QUEUE_DURATION_SECONDS,
  WORKQUEUE_WORK_DURATION_SECONDS,
  WORKQUEUE_RETRIES_TOTAL,
  WORKQUEUE_LONGEST_RUNNING_PROCESSOR_SECONDS,
] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

/**
 * `provider` label of `stackd_webhook_requests_total`: the forges of `POST /api/v1/webhook`, the
 * registries of `POST /api/v1/webhook/registry` (`distribution`: docker-registry's notifications,
 * `dockerhub`, `ghcr`: GitHub `package` events); `unknown` when a request names no provider.
 */
export const WEBHOOK_PROVIDERS = [
  'github',
  'gitea',
  'forgejo',
  'gogs',
  'gitlab',
  'distribution',
  'dockerhub',
  'ghcr',
  'unknown',
] as const;
export type WebhookProviderLabel = (typeof WEBHOOK_PROVIDERS)[number];
/** The registries among the providers. */
export type RegistryProviderLabel = Extract<WebhookProviderLabel, 'distribution' | 'dockerhub' | 'ghcr'>;

/**
 * `result` label of `stackd_webhook_requests_total`: `accepted` (a push to the branch, refresh
 * triggered), `ignored` (another branch, or an event that is not a push), `ping`, `rejected` (bad
 * or missing signature), `invalid` (signed, but the payload is not usable), `duplicate` (a verified
 * delivery already handled: the same delivery id or body within the last hour).
 */
export const WEBHOOK_RESULTS = ['accepted', 'ignored', 'ping', 'rejected', 'invalid', 'duplicate'] as const;
export type WebhookResult = (typeof WEBHOOK_RESULTS)[number];

/** `result` label of the fetch and reconcile counters. */
export type Result = 'success' | 'failure';

/** `result` of stackd_notifications_total and stackd_commit_statuses_total. */
export const DELIVERY_RESULTS = ['sent', 'failed'] as const;
export type DeliveryResultLabel = (typeof DELIVERY_RESULTS)[number];
