/**
 * Refresh coalescing: however many triggers arrive, at most one refresh runs and one waits.
 * Every caller gets the outcome of a refresh that started after it called.
 */
export class Coalescer {
  readonly #run: () => Promise<void>;
  /** The refresh in flight. */
  #running: Promise<void> | undefined;
  /** The refresh queued behind it, shared by every caller that arrived meanwhile. */
  #pending: Promise<void> | undefined;

  constructor(run: () => Promise<void>) {
    this.#run = run;
  }

  trigger(): Promise<void> {
    if (this.#running === undefined) return this.#start();
    this.#pending ??= this.#running.then(
      () => this.#start(),
      () => this.#start(),
    );
    return this.#pending;
  }

  #start(): Promise<void> {
    this.#pending = undefined;
    const run = this.#run().finally(() => {
      if (this.#running === run) this.#running = undefined;
    });
    this.#running = run;
    return run;
  }

  /** Resolves when nothing is running or pending. */
  async idle(): Promise<void> {
    while (this.#running !== undefined || this.#pending !== undefined) {
      await (this.#pending ?? this.#running)?.catch(() => undefined);
    }
  }
}
