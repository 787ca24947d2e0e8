/**
 * One attempt per commit (Argo CD's rule): a failure whose cause is deterministic is not retried
 * at the same desired stack hash; a new commit that changes the stack or a manual sync retries
 * it. Transient causes keep the per-stack exponential backoff. Which cause is which lives here.
 */
import { ComposeUnavailableError, isComposeError } from '../compose/index.js';
import { EngineUnreachableError } from '../informer/index.js';
import type { FailureCause } from '../status/index.js';
import { ReconcileError } from './errors.js';

const DETERMINISTIC: ReadonlySet<FailureCause> = new Set([
  'invalid',
  'not_ready',
  'crash_loop',
  'port_in_use',
  'image_missing',
  'pull_denied',
  'build_failed',
]);

export function isDeterministic(cause: FailureCause): boolean {
  return DETERMINISTIC.has(cause);
}

/** What compose's stderr says, first match wins: ordered from the most to the least specific. */
const COMPOSE_PATTERNS: readonly (readonly [RegExp, FailureCause])[] = [
  [/port is already allocated|address already in use|bind: address/i, 'port_in_use'],
  // Docker Hub's "pull access denied for x, repository does not exist or may require 'docker
  // login'" is most often a misspelt name: image_missing, before the denials below.
  [
    /manifest unknown|manifest for \S+ not found|repository does not exist|no such image|not found: manifest|name unknown/i,
    'image_missing',
  ],
  [
    /no basic auth credentials|unauthorized: |authentication required|pull access denied|requested access to the resource is denied|(?<!permission )denied: |\b401 unauthorized|\b403 forbidden|incorrect username or password/i,
    'pull_denied',
  ],
  [
    /cannot connect to the docker daemon|docker\.sock: connect|is the docker daemon running/i,
    'engine_unreachable',
  ],
  [
    /dial tcp|no such host|i\/o timeout|tls handshake timeout|connection refused|connection reset|client\.timeout|context deadline exceeded|temporary failure in name resolution|network is unreachable/i,
    'registry_unreachable',
  ],
];

/** The cause of a failed apply, from the error it ended with. */
export function classify(error: unknown): FailureCause {
  if (error instanceof ReconcileError) {
    if (error.failure !== undefined) return error.failure;
    if (error.cause !== undefined && error.cause !== error) return classify(error.cause);
  }
  if (error instanceof EngineUnreachableError) return 'engine_unreachable';
  if (error instanceof ComposeUnavailableError) return 'compose_failed';
  if (isComposeError(error)) {
    if (error.kind !== 'exited') return 'timed_out';
    const text = `${error.stderrTail}\n${error.message}`;
    for (const [pattern, cause] of COMPOSE_PATTERNS) if (pattern.test(text)) return cause;
    return 'compose_failed';
  }
  if (error instanceof Error) {
    for (const [pattern, cause] of COMPOSE_PATTERNS) if (pattern.test(error.message)) return cause;
  }
  return 'compose_failed';
}
