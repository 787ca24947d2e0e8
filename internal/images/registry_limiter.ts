/**
 * How hard digest checks may press one registry: its requests run one at a time, `minIntervalMs`
 * apart (from the end of one to the start of the next), and after a 429 none goes to it until the
 * Retry-After the registry named, or else the back-off (`REGISTRY_BACKOFF`, doubling with each
 * consecutive 429) has passed; meanwhile every call fails at once, saying how long is left. A
 * check that succeeds starts the back-off over. Registries are independent of each other.
 */
import { backoffDelay, sleep, type Backoff, type Clock } from '../../pkg/clock/index.js';

interface RegistryState {
  /** Settles when every request scheduled so far has finished (or given up its turn). */
  tail: Promise<void>;
  /** `clock.now()` when the last request finished; -Infinity before the first. */
  lastEndedAt: number;
  /** No request starts before this `clock.now()`; 0 when not rate limited. */
  blockedUntil: number;
  /** Consecutive 429s since the last success: the back-off's attempt number. */
  rateLimits: number;
}

export interface RegistryLimiterOptions {
  readonly clock: Clock;
  readonly minIntervalMs: number;
  readonly backoff: Backoff;
  /** The longest Retry-After honoured as it is; longer ones are cut to it. */
  readonly maxRetryAfterMs: number;
}

/** Resolves when `turn` (which never rejects) does; rejects with `signal`'s reason once it aborts. */
function waitTurn(turn: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return turn;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    void turn.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}

export class RegistryLimiter {
  readonly #options: RegistryLimiterOptions;
  /** By registry (as references name it); an entry lives as long as the limiter. */
  readonly #states = new Map<string, RegistryState>();

  constructor(options: RegistryLimiterOptions) {
    this.#options = options;
  }

  #state(registry: string): RegistryState {
    let state = this.#states.get(registry);
    if (state === undefined) {
      state = { tail: Promise.resolve(), lastEndedAt: -Infinity, blockedUntil: 0, rateLimits: 0 };
      this.#states.set(registry, state);
    }
    return state;
  }

  /** Milliseconds until `registry` may be asked again after a 429 (rounded up); 0 when it may now. */
  blockedFor(registry: string): number {
    const state = this.#states.get(registry);
    if (state === undefined) return 0;
    return Math.max(0, Math.ceil(state.blockedUntil - this.#options.clock.now()));
  }

  /**
   * Runs `request` in `registry`'s turn. `onBlocked(ms)` makes the error thrown, without running
   * `request`, while the registry is rate limited — at the call or when its turn comes.
   */
  async run<T>(
    registry: string,
    request: () => Promise<T>,
    onBlocked: (retryAfterMs: number) => Error,
    signal?: AbortSignal,
  ): Promise<T> {
    const { clock, minIntervalMs } = this.#options;
    const failIfBlocked = (): void => {
      const ms = this.blockedFor(registry);
      if (ms > 0) throw onBlocked(ms);
    };
    failIfBlocked();
    const state = this.#state(registry);
    let release = (): void => undefined;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const previous = state.tail;
    // The next request waits for this one's predecessor too, even if this one gives up early.
    state.tail = previous.then(() => mine);
    try {
      await waitTurn(previous, signal);
      failIfBlocked();
      const wait = state.lastEndedAt + minIntervalMs - clock.now();
      if (wait > 0) await sleep(clock, wait, signal);
      failIfBlocked();
      try {
        return await request();
      } finally {
        state.lastEndedAt = clock.now();
      }
    } finally {
      release();
    }
  }

  /**
   * Records a 429 of `registry`: blocked for `retryAfterMs` when it said so, else the back-off's
   * next delay. Returns how long it is blocked, in ms.
   */
  rateLimited(registry: string, retryAfterMs: number | undefined): number {
    const { clock, backoff, maxRetryAfterMs } = this.#options;
    const state = this.#state(registry);
    const ms =
      retryAfterMs === undefined
        ? backoffDelay(state.rateLimits, backoff)
        : Math.min(maxRetryAfterMs, Math.max(0, Math.ceil(retryAfterMs)));
    state.rateLimits += 1;
    state.blockedUntil = Math.max(state.blockedUntil, clock.now() + ms);
    return ms;
  }

  /** Records a check of `registry` that succeeded: the next 429 starts the back-off over. */
  succeeded(registry: string): void {
    const state = this.#states.get(registry);
    if (state !== undefined) state.rateLimits = 0;
  }
}

/**
 * The delay a `Retry-After` header asks for, in ms: delay-seconds or an HTTP date (against
 * `now`, the wall clock); undefined when absent or unreadable.
 */
export function parseRetryAfter(header: string | null, now: Date): number | undefined {
  const value = header?.trim() ?? '';
  if (value === '') return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}
