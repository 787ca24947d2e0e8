/**
 * The commit status client: posts statuses to one SCM API through a `Sender` (a `Delivery`),
 * rate limited (one request per `minIntervalMs`), coalescing (only the latest waiting state of a
 * commit's context is sent) and deduplicating (a state already sent is not sent again).
 */

import type { Clock, TimerHandle } from '../../../pkg/clock/index.js';
import type { Sender } from '../notify/deliver.js';
import type { CommitStatus, ScmTarget } from '../types.js';
import { commitStatusRequest } from './status.js';

/** Spacing between two requests to the API: bursts of stacks must not trip secondary rate limits. */
export const DEFAULT_MIN_INTERVAL_MS = 200;
/** (sha, context) pairs remembered for deduplication; the oldest are forgotten first. */
export const DEDUP_MEMORY = 1000;

export interface CommitStatusesOptions {
  readonly target: ScmTarget;
  readonly delivery: Sender;
  readonly clock: Clock;
  readonly minIntervalMs?: number;
  /** The target name passed to `delivery.send` (results, logs); default `scm:<provider>`. */
  readonly name?: string;
}

function keyOf(status: CommitStatus): string {
  return `${status.sha}\0${status.context}`;
}

function sameAs(status: CommitStatus): string {
  return `${status.state}\0${status.description}`;
}

export class CommitStatuses {
  readonly #target: ScmTarget;
  readonly #delivery: Sender;
  readonly #clock: Clock;
  readonly #minIntervalMs: number;
  readonly #name: string;
  /** Waiting statuses by (sha, context), the first posted first; a later post replaces the state. */
  readonly #pending = new Map<string, CommitStatus>();
  /** The last state sent per (sha, context). */
  readonly #sent = new Map<string, string>();
  #lastSentAt: number | undefined;
  #timer: TimerHandle = undefined;
  #closed = false;
  #drained: (() => void)[] = [];

  constructor(options: CommitStatusesOptions) {
    this.#target = options.target;
    this.#delivery = options.delivery;
    this.#clock = options.clock;
    this.#minIntervalMs = Math.max(0, options.minIntervalMs ?? DEFAULT_MIN_INTERVAL_MS);
    this.#name = options.name ?? `scm:${options.target.provider}`;
  }

  /** Queues `status`; returns at once. */
  post(status: CommitStatus): void {
    if (this.#closed) return;
    const key = keyOf(status);
    if (!this.#pending.has(key) && this.#sent.get(key) === sameAs(status)) return;
    this.#pending.set(key, status);
    this.#pump();
  }

  /** Resolves when nothing waits here and the sender is idle (on a FakeClock: once time moves). */
  async idle(): Promise<void> {
    if (this.#pending.size > 0) {
      await new Promise<void>((resolve) => {
        this.#drained.push(resolve);
      });
    }
    await this.#delivery.idle?.();
  }

  /** Drops the waiting statuses; the sender (possibly shared) is left to its owner. */
  close(): void {
    this.#closed = true;
    this.#pending.clear();
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#settle();
  }

  #pump(): void {
    if (this.#timer !== undefined || this.#closed) return;
    const wait =
      this.#lastSentAt === undefined ? 0 : this.#lastSentAt + this.#minIntervalMs - this.#clock.now();
    if (wait > 0) {
      this.#timer = this.#clock.setTimeout(() => {
        this.#timer = undefined;
        this.#sendNext();
      }, wait);
    } else {
      this.#sendNext();
    }
  }

  #sendNext(): void {
    for (const [key, status] of this.#pending) {
      this.#pending.delete(key);
      // A later post may have brought it back to the state already sent: nothing to say.
      if (this.#sent.get(key) === sameAs(status)) continue;
      this.#remember(key, sameAs(status));
      this.#lastSentAt = this.#clock.now();
      this.#delivery.send(this.#name, commitStatusRequest(this.#target, status));
      break;
    }
    if (this.#pending.size > 0) this.#pump();
    else this.#settle();
  }

  #remember(key: string, value: string): void {
    this.#sent.delete(key);
    this.#sent.set(key, value);
    for (const oldest of this.#sent.keys()) {
      if (this.#sent.size <= DEDUP_MEMORY) break;
      this.#sent.delete(oldest);
    }
  }

  #settle(): void {
    if (this.#pending.size > 0) return;
    for (const resolve of this.#drained.splice(0)) resolve();
  }
}
