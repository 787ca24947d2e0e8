/**
 * What the last fetches of the desired state found, for the API's `source` and `stackd status`:
 * when it last succeeded, and the current run of failures (its first time and last error). A
 * fetch failure keeps the last good desired state, so without this the stacks look fine.
 */
import type { Clock } from '../../pkg/clock/index.js';
import { redactUrl } from '../log/index.js';
import type { SourceStatus } from '../status/index.js';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export class SourceHealth {
  readonly #url: string;
  readonly #branch: string;
  readonly #clock: Clock;
  #lastSuccessAt: number | null = null;
  /** Null when the last fetch succeeded; `failingSince` is set exactly when this is. */
  #lastError: string | null = null;
  #lastErrorAt: number | null = null;
  #failingSince: number | null = null;

  /** `url` is redacted here: credentials in it never reach the API. */
  constructor(url: string, branch: string, clock: Clock) {
    this.#url = redactUrl(url);
    this.#branch = branch;
    this.#clock = clock;
  }

  /** The desired state restored from disk was fetched at `at`: the last success known. */
  restored(at: Date): void {
    this.#lastSuccessAt ??= at.getTime();
  }

  succeeded(): void {
    this.#lastSuccessAt = this.#clock.date().getTime();
    this.#lastError = null;
    this.#failingSince = null;
  }

  failed(message: string): void {
    const now = this.#clock.date().getTime();
    this.#lastError = message;
    this.#lastErrorAt = now;
    this.#failingSince ??= now;
  }

  get lastError(): string | null {
    return this.#lastError;
  }

  view(): SourceStatus {
    return {
      url: this.#url,
      branch: this.#branch,
      lastSuccessAt: iso(this.#lastSuccessAt),
      lastError: this.#lastError,
      lastErrorAt: iso(this.#lastErrorAt),
      failingSince: iso(this.#failingSince),
    };
  }
}
