/**
 * The processing loop: workers take keys from a rate-limiting queue and apply one requeue contract.
 * Beside it, the policies that decide how a trigger adds a key (`Enqueuer`), since they depend on
 * that contract: an event does not cut a backoff short, a forced key reaches the handler as such.
 */

import PQueue from 'p-queue';
import { realClock, type Clock, type TimerHandle } from '../clock/clock.js';
import type { RateLimitingQueue } from './rate_limiting.js';
import { isTerminalError } from './terminal_error.js';
import { checkInteger, checkNumber } from '../validate/index.js';

/** What a handler asks for; `undefined` (or returning nothing) means done. */
export type Result = undefined | { readonly requeueAfter?: number };

/** What a handler is told about the key besides its name. */
export interface KeyInfo {
  /** The key was added by `Enqueuer.addForced` since it was last handed out: act even if it looks done. */
  readonly forced: boolean;
  /** The flags of those forced adds, together (empty when not forced). */
  readonly flags: ReadonlySet<string>;
}

/**
 * Processes one key. Throw to retry with backoff; throw a `TerminalError` to give up; return
 * `{ requeueAfter }` to look again later. `signal` aborts when shutdown's grace period ends.
 */
// `void` lets a handler that returns nothing (`async () => {}`) be a `Handler`.
// eslint-disable-next-line @typescript-eslint/no-invalid-void-type
export type Handler = (key: string, signal: AbortSignal, info: KeyInfo) => Promise<Result | void>;

/**
 * How triggers add keys, beside the contract that retries them. A level-triggered look (`add`) is
 * queued once; an observed change (`addObserved`) leaves a key waiting out its backoff to the
 * queue's retry, since such events are often caused by the failing attempt itself (a crash-looping
 * container); a forced add (`addForced`) is handed to the handler with `forced: true`, once.
 */
const NO_FLAGS: ReadonlySet<string> = new Set();

export class Enqueuer {
  readonly #queue: RateLimitingQueue;
  /** Keys force-added since they were last handed out, with their flags; taken by `processKey`. */
  readonly #forced = new Map<string, Set<string>>();

  constructor(queue: RateLimitingQueue) {
    this.#queue = queue;
  }

  add(key: string): void {
    this.#queue.add(key);
  }

  /** Adds `key` unless it is waiting out a retry backoff (it has been requeued since last forgotten). */
  addObserved(key: string): void {
    if (this.#queue.numRequeues(key) === 0) this.#queue.add(key);
  }

  /**
   * Adds `key`; its next handling is told `forced: true`, with `flags` (and those of any other
   * forced add of it meanwhile): what the one who forced it asked for besides (`prune`, say).
   */
  addForced(key: string, flags: Iterable<string> = []): void {
    const known = this.#forced.get(key) ?? new Set<string>();
    for (const flag of flags) known.add(flag);
    this.#forced.set(key, known);
    this.#queue.add(key);
  }

  /** Whether `key` was force-added since the last call for it, and with which flags (and forgets it). */
  takeForced(key: string): { readonly forced: boolean; readonly flags: ReadonlySet<string> } {
    const flags = this.#forced.get(key);
    this.#forced.delete(key);
    return { forced: flags !== undefined, flags: flags ?? NO_FLAGS };
  }
}

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
  /**
   * The enqueuer whose forced keys the handler is told about (`KeyInfo.forced`).
   * @default undefined (no key is forced)
   */
  readonly enqueuer?: Enqueuer;
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
  enqueuer?: Enqueuer,
): Promise<void> {
  const info: KeyInfo = enqueuer?.takeForced(key) ?? { forced: false, flags: NO_FLAGS };
  try {
    const result = (await handler(key, signal, info)) as Result;
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
 * Runs up to `concurrency` handlers at once over `queue` until it shuts down. The returned promise
 * resolves once every handler has stopped: the running ones finished (and, with `drain`, the
 * waiting keys too). After `gracePeriod` from shutdown, the handlers' `signal` is aborted.
 *
 * p-queue is the concurrency limiter only: a key is taken from `queue` when a slot is free, so
 * keys wait (deduplicated, delayed, rate-limited) in `queue`, never in p-queue.
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
    enqueuer,
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

  const limiter = new PQueue({ concurrency });
  const slotFreed = (): Promise<void> =>
    new Promise((resolve) => {
      limiter.once('next', resolve);
    });
  const loop = async (): Promise<void> => {
    while (drain || !queue.shuttingDown) {
      if (limiter.pending >= concurrency) {
        await slotFreed();
        continue;
      }
      const key = await queue.get();
      if (key === undefined) break;
      // processKey settles every handler outcome itself: this promise never rejects.
      void limiter.add(() => processKey(queue, key, handler, abort.signal, onError, enqueuer));
    }
    await limiter.onIdle();
  };
  return loop().then(() => {
    if (graceTimer !== undefined) clock.clearTimeout(graceTimer.handle);
    queue.shutdownSignal.removeEventListener('abort', startGrace);
    signal?.removeEventListener('abort', shutDown);
  });
}
