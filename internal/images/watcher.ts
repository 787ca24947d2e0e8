/**
 * The digest watcher: which image tags the desired stacks watch (services whose update policy is
 * `digest` or `notify`), and what digest each tag's registry serves now. Every
 * `images.pollInterval` (jittered), and at once for the tags a registry webhook names, it asks the
 * registries (a HEAD of the manifest: never a pull) and tells the controller which stacks use a
 * tag whose digest changed; the reconciler compares with what the containers run. A registry that
 * does not answer fails the check only: the last known digest stays, nothing else changes.
 */
import { jittered, type Clock, type TimerHandle } from '../../pkg/clock/index.js';
import type { Logger } from '../log/index.js';
import { LogEvent } from '../log/index.js';
import { IMAGE_FIRST_CHECK_MS, POLL_JITTER } from '../schedule/index.js';
import type { Snapshot } from '../source/types.js';
import { type UpdatePolicy, effectivePolicy } from '../source/x_stackd.js';
import { shortDigest, watchableReference } from './digests.js';
import { type ImageReference, parseReference, tagKey } from './reference.js';

/** Asks a registry for a tag's digest (internal/images/registry_client.ts). */
export interface DigestSource {
  headDigest(ref: ImageReference, signal?: AbortSignal): Promise<string>;
}

export interface WatcherOptions {
  readonly registry: DigestSource;
  readonly logger: Logger;
  readonly clock: Clock;
  /** `images.update`, read at each use. */
  readonly policy: () => UpdatePolicy;
  /** `images.pollInterval` in ms; 0 = no polling (webhooks still check). */
  readonly pollIntervalMs: number;
  /** Stacks using a tag whose digest changed (or became known). */
  readonly onChange: (stacks: readonly string[]) => void;
  /** Counts each tag checked. */
  readonly onCheck?: (result: 'success' | 'failure') => void;
  readonly random?: () => number;
}

interface Watched {
  readonly ref: ImageReference;
  /** `stack/service` pairs using it. */
  readonly uses: { readonly stack: string; readonly service: string }[];
}

export interface Available {
  readonly digest: string;
  /** Wall-clock time of the check that found it. */
  readonly at: Date;
}

export class ImageWatcher {
  readonly #o: WatcherOptions;
  /** By tag key (`registry/repository:tag`). */
  #watched = new Map<string, Watched>();
  readonly #available = new Map<string, Available>();
  /** Tags whose last check failed (logged once per failure streak). */
  readonly #failing = new Set<string>();
  #timer: TimerHandle;
  #started = false;
  #stopped = false;
  readonly #abort = new AbortController();
  #running: Promise<void> = Promise.resolve();

  constructor(options: WatcherOptions) {
    this.#o = options;
  }

  /** The watched set from a new desired state. */
  watch(snapshot: Snapshot): void {
    const global = this.#o.policy();
    const watched = new Map<string, Watched>();
    for (const [id, stack] of snapshot.stacks) {
      for (const [name, service] of stack.services) {
        if (effectivePolicy(service, global) === 'off') continue;
        const ref = watchableReference(service);
        const key = ref === null ? null : tagKey(ref);
        if (ref === null || key === null) continue;
        const entry = watched.get(key) ?? { ref, uses: [] };
        entry.uses.push({ stack: id, service: name });
        watched.set(key, entry);
      }
    }
    const fresh = [...watched.keys()].filter((key) => !this.#watched.has(key));
    this.#watched = watched;
    for (const key of this.#available.keys()) if (!watched.has(key)) this.#available.delete(key);
    // A tag watched for the first time is looked at without waiting for the next poll.
    if (this.#started && fresh.length > 0) void this.#enqueueCheck(fresh);
  }

  /** The registry's digest of `image` (a reference) at the last successful check. */
  available(image: string): Available | undefined {
    const ref = parseReference(image);
    const key = ref === null ? null : tagKey(ref);
    return key === null ? undefined : this.#available.get(key);
  }

  /** Forget what is known of `image` (its pull failed): checked again before it is applied. */
  forget(image: string): void {
    const ref = parseReference(image);
    const key = ref === null ? null : tagKey(ref);
    if (key !== null) this.#available.delete(key);
  }

  /** Registry pushes (webhook): checks the watched tags among them now; the number of services using them. */
  pushed(pushes: readonly { readonly name: string; readonly tag: string }[]): number {
    const keys = [...new Set(pushes.map((p) => `${p.name}:${p.tag}`))].filter((k) => this.#watched.has(k));
    if (keys.length > 0) void this.#enqueueCheck(keys);
    return keys.reduce((n, key) => n + (this.#watched.get(key)?.uses.length ?? 0), 0);
  }

  start(): void {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    this.#schedule(IMAGE_FIRST_CHECK_MS);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#o.clock.clearTimeout(this.#timer);
    this.#abort.abort();
    await this.#running.catch(() => undefined);
  }

  /** Checks every watched tag now (a pass of the poll). */
  checkAll(): Promise<void> {
    return this.#enqueueCheck([...this.#watched.keys()]);
  }

  /** Not stopped (read after an await: stop() may have come meanwhile). */
  #live(): boolean {
    return !this.#stopped;
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = this.#o.clock.setTimeout(() => {
      void this.checkAll().finally(() => {
        if (this.#o.pollIntervalMs > 0) {
          this.#schedule(jittered(this.#o.pollIntervalMs, POLL_JITTER, this.#o.random ?? Math.random));
        }
      });
    }, ms);
  }

  /** Checks run one pass at a time (a webhook's check waits for a poll in progress). */
  #enqueueCheck(keys: readonly string[]): Promise<void> {
    const run = this.#running.then(() => this.#check(keys));
    this.#running = run.catch(() => undefined);
    return run;
  }

  async #check(keys: readonly string[]): Promise<void> {
    if (this.#stopped) return;
    const changed = new Set<string>();
    await Promise.all(
      keys.map(async (key) => {
        const watched = this.#watched.get(key);
        if (watched === undefined) return;
        let digest: string;
        try {
          digest = await this.#o.registry.headDigest(watched.ref, this.#abort.signal);
        } catch (error) {
          if (this.#stopped) return;
          this.#o.onCheck?.('failure');
          if (!this.#failing.has(key)) {
            this.#failing.add(key);
            const reason = error instanceof Error ? error.message : String(error);
            this.#o.logger.warn(
              `image check of ${key} failed: ${reason}; the running stacks are not affected`,
              {
                event: LogEvent.imagesCheckFailed,
                image: key,
                reason,
                stacks: stacksOf(watched),
              },
            );
          }
          return;
        }
        this.#o.onCheck?.('success');
        this.#failing.delete(key);
        const before = this.#available.get(key);
        this.#available.set(key, { digest, at: this.#o.clock.date() });
        if (before?.digest === digest) return;
        this.#o.logger.info(`image ${key} is at ${shortDigest(digest)}`, {
          event: LogEvent.imagesDigest,
          image: key,
          digest,
          ...(before === undefined ? {} : { previous: before.digest }),
          stacks: stacksOf(watched),
        });
        for (const use of watched.uses) changed.add(use.stack);
      }),
    );
    if (changed.size > 0 && this.#live()) this.#o.onChange([...changed].sort());
  }
}

function stacksOf(watched: Watched): string[] {
  return [...new Set(watched.uses.map((u) => u.stack))];
}
