/**
 * The desired source: fetches the configured branch (isomorphic-git), discovers the stacks
 * under `source.path`, parses and hashes them, and publishes an immutable Snapshot only when the
 * commit changes. It never touches Docker; a failed fetch never replaces the last good snapshot.
 */
export type { DesiredService, DesiredStack, Snapshot, SnapshotListener, Source } from './types.js';
export type { MaterializeReport } from './materialize.js';
export { WorkTreeError } from './worktree.js';
export { DEFAULT_STACK_LIMITS, stackLimitsOf, type StackLimits } from './limits.js';
export { createGitSource, type GitSource } from './git_source.js';
export type { GitSourceOptions, SourceLogger } from './options.js';
export { SourceError, scrub } from './errors.js';
export { createScope, type Scope, type ScopeOptions } from './scope.js';
export {
  COMPOSE_FILE_NAMES,
  OVERRIDE_FILE_NAMES,
  composeFilesAmong,
  rootComposeMessage,
} from './discover.js';
export {
  formatValidateReport,
  validateCheckout,
  validateDirectory,
  type CheckoutValidation,
  type StackComposeInput,
  type ValidateCompose,
  type ValidateOptions,
  type ValidateReport,
  type ValidateStack,
} from './validate.js';
