/**
 * The informer engine: one full list, then the event stream; per-project re-lists on events,
 * coalesced; reconnect with backoff when the engine stops answering.
 *
 * Over 300 lines on purpose: connecting, the event stream, re-lists and the cache are one state
 * machine sharing a sequence number (a list older than an event must not overwrite it) and one
 * lifetime signal; the parts that stand alone are already apart (events.ts, expectations.ts,
 * engine.ts, container.ts).
 */
import { setMaxListeners } from 'node:events';
import Dockerode from 'dockerode';
import { COMPOSE_PROJECT } from '../labels/index.js';
import { LogEvent } from '../log/events.js';
import { ENGINE_RECONNECT, ENGINE_REQUEST_TIMEOUT_MS, EVENT_COALESCE } from '../schedule/index.js';
import { backoffDelay, realClock, type Clock } from '../../pkg/clock/index.js';
import { groupByProject, sameProject } from './container.js';
import { carryDetails, logTail, withDetails } from './detail.js';
import { EngineUnreachableError, describeEndpoint, engineErrorMessage, streamLostMessage } from './engine.js';
import { followEvents, type ContainerEvent, type EventStream } from './events.js';
import { LagTracker } from './expectations.js';
import { checkMs, silentLogger, type InformerLogger, type InformerOptions } from './options.js';
import type { Informer, ObservedProject, Observation, ProjectListener } from './types.js';

interface ListResult {
  readonly seq: number;
  readonly projects: Map<string, ObservedProject>;
}

class DockerInformer implements Informer {
  readonly #docker: Dockerode;
  readonly #logger: InformerLogger;
  readonly #clock: Clock;
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #coalesceMs: number;
  readonly #coalesceMaxMs: number;
  /** Longest wait for one answer of the engine (see InformerOptions.requestTimeoutMs). */
  readonly #requestTimeoutMs: number;
  /** Set when the caller named the endpoint; else derived from the client on every use. */
  readonly #endpointOption: string | undefined;
  readonly #listeners = new Set<ProjectListener>();
  /** Aborted by stop(): cancels every request in flight, the event stream included. */
  readonly #lifetime = new AbortController();
  /** Replaced, never mutated: current() hands it out as is. */
  #observation: Observation;
  #started = false;
  #stopped = false;
  /** The live event stream; undefined while disconnected. */
  #stream: EventStream | undefined;
  /** The connect attempt (open stream, full list) in progress, if any. */
  #connecting: Promise<void> | undefined;
  /** Set while a reconnect is scheduled. */
  #reconnectTimer: unknown;
  /** Failed connect attempts since the engine last answered; drives the backoff. */
  #attempt = 0;
  /** Projects with events not re-listed yet. */
  readonly #pending = new Set<string>();
  /** Set while a flush of #pending is scheduled. */
  #flushTimer: unknown;
  /** When the first event of the pending burst came (ms); the flush waits at most coalesceMaxMs from it. */
  #burstStart = 0;
  /** At most one re-list per project at a time. */
  readonly #inflight = new Map<string, Promise<void>>();
  /** Every list takes a number when it starts; a project's cache entry only moves to a later one. */
  #seq = 0;
  readonly #applied = new Map<string, number>();
  /** What recent events promise the next lists will show; re-lists projects whose list lags. */
  readonly #lag: LagTracker;

  constructor(options: InformerOptions) {
    this.#docker = options.docker ?? new Dockerode();
    this.#logger = options.logger ?? silentLogger;
    this.#clock = options.clock ?? realClock;
    this.#baseMs = checkMs('reconnect.baseMs', options.reconnect?.baseMs ?? ENGINE_RECONNECT.baseMs, 1);
    this.#maxMs = checkMs(
      'reconnect.maxMs',
      options.reconnect?.maxMs ?? ENGINE_RECONNECT.maxMs,
      this.#baseMs,
    );
    this.#coalesceMs = checkMs('coalesceMs', options.coalesceMs ?? EVENT_COALESCE.quietMs, 0);
    this.#coalesceMaxMs = checkMs(
      'coalesceMaxMs',
      options.coalesceMaxMs ?? EVENT_COALESCE.maxMs,
      this.#coalesceMs,
    );
    this.#requestTimeoutMs = checkMs(
      'requestTimeoutMs',
      options.requestTimeoutMs ?? ENGINE_REQUEST_TIMEOUT_MS,
      1,
    );
    this.#endpointOption = options.endpoint;
    this.#lag = new LagTracker(this.#clock, (project) => {
      this.#schedule(project);
    });
    this.#observation = { up: false, stale: true, at: this.#clock.date(), error: null, projects: new Map() };
    // Every request in flight listens on it; many projects re-listing at once is not a leak.
    setMaxListeners(0, this.#lifetime.signal);
  }

  /** The client learns the default socket path on its first request, so ask it each time. */
  get #endpoint(): string {
    return this.#endpointOption ?? describeEndpoint(this.#docker);
  }

  async start(): Promise<void> {
    if (this.#stopped) throw new Error('Expected an informer that was not stopped, got a stopped one');
    if (this.#started) return;
    this.#started = true;
    await this.#connect();
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#lifetime.abort();
    this.#closeStream();
    this.#clock.clearTimeout(this.#reconnectTimer);
    this.#clock.clearTimeout(this.#flushTimer);
    this.#reconnectTimer = undefined;
    this.#flushTimer = undefined;
    this.#pending.clear();
    this.#lag.clear();
    await Promise.allSettled([...this.#inflight.values(), this.#connecting]);
    this.#observation = { ...this.#observation, up: false, stale: true, error: 'informer stopped' };
  }

  current(): Observation {
    return this.#observation;
  }

  onChange(listener: ProjectListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  async observeProject(project: string, signal?: AbortSignal): Promise<ObservedProject | undefined> {
    const combined =
      signal === undefined ? this.#lifetime.signal : AbortSignal.any([this.#lifetime.signal, signal]);
    let seq: number;
    let observed: ObservedProject | undefined;
    try {
      const result = await this.#list(project, combined);
      seq = result.seq;
      const listed = result.projects.get(project);
      observed =
        listed === undefined
          ? undefined
          : await this.#answerWithin((deadline) =>
              withDetails(this.#docker, listed, AbortSignal.any([combined, deadline])),
            );
    } catch (error) {
      if (combined.aborted) throw error;
      const message = engineErrorMessage(this.#endpoint, error);
      this.#lost(message);
      throw new EngineUnreachableError(message, this.#endpoint, { cause: error });
    }
    this.#apply(seq, new Map([[project, observed]]), false);
    return observed;
  }

  logTail(containerId: string, lines: number, signal?: AbortSignal): Promise<string> {
    const combined =
      signal === undefined ? this.#lifetime.signal : AbortSignal.any([this.#lifetime.signal, signal]);
    return this.#answerWithin((deadline) =>
      logTail(this.#docker, containerId, lines, AbortSignal.any([combined, deadline])),
    ).catch((error: unknown) => {
      if (combined.aborted) throw error;
      return '';
    });
  }

  // --- connection -------------------------------------------------------------------------------

  #connect(): Promise<void> {
    this.#connecting ??= this.#attemptConnect().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  /** Open the stream first, then list: an event during the list only causes one more re-list. */
  async #attemptConnect(): Promise<void> {
    const wasDown = this.#attempt > 0;
    try {
      const stream = await this.#answerWithin((signal) =>
        followEvents(this.#docker, signal, {
          onEvent: (event) => {
            this.#onEvent(event);
          },
          onEnd: (error) => {
            this.#lost(streamLostMessage(this.#endpoint, error));
          },
        }),
      );
      if (this.#stopped) {
        stream.close();
        return;
      }
      this.#stream = stream;
      const result = await this.#list(undefined, this.#lifetime.signal);
      // The stream (or a re-list) failed while we listed: this attempt failed.
      if (this.#stream !== stream) {
        this.#retry(
          this.#observation.error ?? `lost the Docker engine at ${this.#endpoint}: event stream closed`,
        );
        return;
      }
      const all = [...new Set([...this.#observation.projects.keys(), ...result.projects.keys()])];
      this.#lag.clear();
      this.#apply(result.seq, new Map(all.map((p) => [p, result.projects.get(p)])), true);
      this.#attempt = 0;
      const meta = {
        event: LogEvent.engineConnected,
        endpoint: this.#endpoint,
        projects: result.projects.size,
      };
      if (wasDown) this.#logger.info('Docker engine reachable again', meta);
      else this.#logger.debug('informer connected', meta);
      this.#notify(all);
    } catch (error) {
      this.#retry(engineErrorMessage(this.#endpoint, error));
    }
  }

  /** A connect attempt failed: stay down, try again after the backoff. */
  #retry(message: string): void {
    if (this.#stopped) return;
    this.#markDown(message);
    this.#closeStream();
    this.#scheduleReconnect();
  }

  /** The stream ended or a re-list failed: go stale and reconnect (unless a connect is running). */
  #lost(message: string): void {
    if (this.#stopped) return;
    this.#markDown(message);
    this.#closeStream();
    if (this.#connecting === undefined) this.#scheduleReconnect();
  }

  #markDown(message: string): void {
    const wasUp = this.#observation.up;
    this.#observation = { ...this.#observation, up: false, stale: true, error: message };
    this.#pending.clear();
    this.#clock.clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    this.#lag.clear();
    const event = LogEvent.engineUnreachable;
    if (wasUp || this.#attempt === 0)
      this.#logger.warn('Docker engine not reachable', { event, error: message });
    else
      this.#logger.debug('Docker engine still not reachable', {
        event,
        error: message,
        attempt: this.#attempt,
      });
  }

  #scheduleReconnect(): void {
    if (this.#stopped || this.#reconnectTimer !== undefined) return;
    const delay = backoffDelay(this.#attempt, { baseMs: this.#baseMs, maxMs: this.#maxMs });
    this.#attempt += 1;
    this.#reconnectTimer = this.#clock.setTimeout(() => {
      this.#reconnectTimer = undefined;
      void this.#connect();
    }, delay);
  }

  #closeStream(): void {
    this.#stream?.close();
    this.#stream = undefined;
  }

  // --- per-project re-lists ---------------------------------------------------------------------

  #onEvent(event: ContainerEvent): void {
    if (this.#stopped) return;
    this.#lag.record(event);
    this.#schedule(event.project);
  }

  #schedule(project: string): void {
    if (this.#stopped) return;
    this.#pending.add(project);
    this.#armFlush(true);
  }

  /**
   * Flush once events have been quiet for coalesceMs (`debounce`: this call is a new event), but
   * no later than coalesceMaxMs after the first event of the burst.
   */
  #armFlush(debounce: boolean): void {
    if (this.#pending.size === 0) return;
    const now = this.#clock.now();
    if (this.#flushTimer !== undefined) {
      if (!debounce || now - this.#burstStart + this.#coalesceMs > this.#coalesceMaxMs) return;
      this.#clock.clearTimeout(this.#flushTimer);
    } else {
      this.#burstStart = now;
    }
    this.#flushTimer = this.#clock.setTimeout(() => {
      this.#flushTimer = undefined;
      this.#flush();
    }, this.#coalesceMs);
  }

  #flush(): void {
    for (const project of [...this.#pending]) {
      if (this.#inflight.has(project)) continue; // re-armed when that one finishes
      this.#pending.delete(project);
      const run = this.#relist(project).finally(() => {
        this.#inflight.delete(project);
        if (this.#pending.has(project)) this.#armFlush(false);
      });
      this.#inflight.set(project, run);
    }
  }

  async #relist(project: string): Promise<void> {
    try {
      const result = await this.#list(project, this.#lifetime.signal);
      if (this.#stopped) return;
      const before = this.#observation.projects.get(project);
      const observed = result.projects.get(project);
      this.#apply(result.seq, new Map([[project, observed]]), false);
      if (!this.#lag.verify(project, observed)) {
        this.#logger.debug('container list still behind its events', {
          event: LogEvent.informerLagging,
          project,
        });
      }
      if (!sameProject(before, this.#observation.projects.get(project))) this.#notify([project]);
    } catch (error) {
      this.#lost(engineErrorMessage(this.#endpoint, error));
    }
  }

  // --- cache ------------------------------------------------------------------------------------

  /** One list call: every compose container, or one project's. One-off containers left out. */
  async #list(project: string | undefined, signal: AbortSignal): Promise<ListResult> {
    this.#seq += 1;
    const seq = this.#seq;
    const label = project === undefined ? COMPOSE_PROJECT : `${COMPOSE_PROJECT}=${project}`;
    const infos = await this.#answerWithin((deadline) =>
      this.#docker.listContainers({
        all: true,
        filters: { label: [label] },
        abortSignal: AbortSignal.any([signal, deadline]),
      }),
    );
    return { seq, projects: groupByProject(infos) };
  }

  /**
   * Run `request` with a signal that aborts (with the lifetime, or) when the engine has not
   * answered within requestTimeoutMs; a timeout is reported as such, not as a bare abort.
   * The signal given to `request` is only a deadline for its answer: it is never aborted later.
   */
  async #answerWithin<T>(request: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const deadline = new AbortController();
    const timer = this.#clock.setTimeout(() => {
      deadline.abort();
    }, this.#requestTimeoutMs);
    try {
      return await request(AbortSignal.any([this.#lifetime.signal, deadline.signal]));
    } catch (error) {
      if (deadline.signal.aborted && !this.#lifetime.signal.aborted) {
        throw new Error(`no answer within ${this.#requestTimeoutMs} ms`, { cause: error });
      }
      throw error;
    } finally {
      this.#clock.clearTimeout(timer);
    }
  }

  /** Put list results into the cache (undefined = the project has no containers any more). */
  #apply(seq: number, results: ReadonlyMap<string, ObservedProject | undefined>, connected: boolean): void {
    const next = new Map(this.#observation.projects);
    for (const [project, observed] of results) {
      if ((this.#applied.get(project) ?? -1) > seq) continue; // a later list already answered
      this.#applied.set(project, seq);
      if (observed === undefined) next.delete(project);
      else next.set(project, carryDetails(next.get(project), observed));
    }
    const projects = new Map([...next].sort(([a], [b]) => a.localeCompare(b)));
    this.#observation = connected
      ? { up: true, stale: false, at: this.#clock.date(), error: null, projects }
      : {
          ...this.#observation,
          at: this.#observation.up ? this.#clock.date() : this.#observation.at,
          projects,
        };
  }

  #notify(projects: Iterable<string>): void {
    for (const project of projects) {
      for (const listener of [...this.#listeners]) {
        try {
          listener(project);
        } catch (error) {
          this.#logger.warn('informer listener failed', {
            event: LogEvent.informerListener,
            project,
            error: String(error),
          });
        }
      }
    }
  }
}

export function createInformer(options: InformerOptions = {}): Informer {
  return new DockerInformer(options);
}
