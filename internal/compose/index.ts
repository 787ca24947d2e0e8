/**
 * Runs `docker compose` (v2 plugin) or `docker-compose` (v1) for one project at a time: validate,
 * up, down, each in its own process group so a timeout or abort kills everything it spawned.
 * Failures come back as a `ComposeError` with the command, exit code, stderr tail and `kind`
 * (tell one with `isComposeError`), or a `ComposeUnavailableError` when no compose command can be
 * run.
 */
export { createComposeRunner } from './runner.js';
export { ChildRegistry, type ChildRecord } from './children.js';
export {
  CHECK_CONCURRENCY,
  checkProjects,
  composeAvailability,
  noEngineEnv,
  type ComposeAvailability,
  type ComposeCheckOptions,
  type ComposeCheckTarget,
} from './check.js';
export { envRedactor, readEnv } from './env_redact.js';
export {
  ComposeError,
  ComposeUnavailableError,
  isComposeError,
  type ComposeErrorDetails,
  type ComposeErrorKind,
} from './errors.js';
export type { ComposeLogger, ComposeRunnerOptions } from './options.js';
export { renderOverride, writeOverride } from './override.js';
export type { ComposeRunOptions, ComposeRunner, ComposeTarget } from './types.js';
