/** Commit statuses: the request per provider, source URL defaults, and the rate-limited client. */
export {
  DESCRIPTION_LIMITS,
  commitStatusRequest,
  defaultBaseUrl,
  repositoryFromUrl,
  truncateChars,
} from './status.js';
export {
  CommitStatuses,
  DEDUP_MEMORY,
  DEFAULT_MIN_INTERVAL_MS,
  type CommitStatusesOptions,
} from './statuses.js';
