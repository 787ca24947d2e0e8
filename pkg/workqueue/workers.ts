/** The processing loop: workers take keys from a rate-limiting queue and apply one requeue contract. */

import { realClock, type Clock, type TimerHandle } from '../clock/clock.js';
import type { RateLimitingQueue } from './rate_limiting.js';
import { isTerminalError } from './terminal_error.js';
import { checkInteger, checkNumber } from '../validate/index.js';

/** What a handler asks for; `undefined` (or returning nothing) means done. */
export type Result = undefined | { readonly requeueAfter?: number };

/**
 * Processes one key. Throw to retry with backoff; throw a `TerminalError` to give up; return
 * `{ requeueAfter }` to look again later. `signal` aborts when shutdown's grace period ends.
 */
// `void` lets a handler that returns nothing (`async () => {}`) be a `Handler`.
// eslint-disable-next-line @typescript-eslint/no-invalid-void-type
export type Handler = (key: string, signal: AbortSignal) => Promise<Result | void>;

export interface WorkersOptions {
  /** Processes one key; see `Handler`. */
  readonly handler: Handler;
  /**
   * How many keys are processed at once (never the same key twice).
   * @default 1
   */
  readonly concurrency?: number;
  /**
   * On shutdown, also process the keys still waiting (not the delayed ones) before resolving.
   * When false, workers stop taking keys and only the handlers already running finish.
   * @default false
   */
  readonly drain?: boolean;
  /**
   * Milliseconds after shutdown at which the handlers' `signal` is aborted.
   * @default Infinity (never aborted: handlers always run to completion)
   */
  readonly gracePeriod?: number;
  /**
   * Aborting it shuts the queue down, like calling `queue.shutDown()`.
   * @default undefined
   */
  readonly signal?: AbortSignal;
  /**
   * Called with every error a handler throws (after the key is re-queued or forgotten).
   * @default undefined
   */
  readonly onError?: (key: string, error: unknown) => void;
  /**
   * Source of time for the grace period.
   * @default realClock
   */
  readonly clock?: Clock;
}

/**
 * The requeue contract, in one place (controller-runtime's `reconcileHandler`): a thrown
 * `TerminalError` → forget; any other throw → `addRateLimited`; `{ requeueAfter }` → forget,
 * then `addAfter` (an invalid `requeueAfter` counts as a throw); anything else → forget. Always `done(key)` last, so a key re-added while it
 * was processed is queued again.
 */
export async function processKey(
  queue: RateLimitingQueue,
  key: string,
  handler: Handler,
  signal: AbortSignal,
  onError?: (key: string, error: unknown) => void,
): Promise<void> {
  try {
    const result = (await handler(key, signal)) as Result;
    queue.forget(key);
    const requeueAfter = result?.requeueAfter;
    if (requeueAfter !== undefined) queue.addAfter(key, requeueAfter);
  } catch (error) {
    if (isTerminalError(error)) queue.forget(key);
    else queue.addRateLimited(key);
    try {
      onError?.(key, error);
    } catch {
      // A reporting hook must not stop the loop.
    }
  } finally {
    queue.done(key);
  }
}

/**
 * Runs `concurrency` workers over `queue` until it shuts down. The returned promise resolves
 * once every worker has stopped: the running handlers finished (and, with `drain`, the waiting
 * keys too). After `gracePeriod` from shutdown, the handlers' `signal` is aborted.
 */
export function runWorkers(queue: RateLimitingQueue, options: WorkersOptions): Promise<void> {
  const {
    handler,
    concurrency = 1,
    drain = false,
    gracePeriod = Infinity,
    signal,
    onError,
    clock = realClock,
  } = options;
  checkInteger('concurrency', concurrency, 1);
  checkNumber('gracePeriod', gracePeriod, 0, { infinite: true });

  const abort = new AbortController();
  let graceTimer: { readonly handle: TimerHandle } | undefined;
  const startGrace = (): void => {
    if (gracePeriod === Infinity) return;
    const handle = clock.setTimeout(() => {
      abort.abort();
    }, gracePeriod);
    graceTimer = { handle };
  };
  const shutDown = (): void => {
    queue.shutDown();
  };
  if (queue.shuttingDown) startGrace();
  else queue.shutdownSignal.addEventListener('abort', startGrace, { once: true });
  signal?.addEventListener('abort', shutDown, { once: true });
  if (signal?.aborted === true) shutDown();

  const worker = async (): Promise<void> => {
    while (drain || !queue.shuttingDown) {
      const key = await queue.get();
      if (key === undefined) return;
      await processKey(queue, key, handler, abort.signal, onError);
    }
  };

  return Promise.all(Array.from({ length: concurrency }, worker)).then(() => {
    if (graceTimer !== undefined) clock.clearTimeout(graceTimer.handle);
    queue.shutdownSignal.removeEventListener('abort', startGrace);
    signal?.removeEventListener('abort', shutDown);
  });
}
