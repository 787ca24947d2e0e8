/** The observed runtime as the informer caches it (DESIGN.md §1). */

export interface ObservedContainer {
  readonly id: string;
  /** Name without the leading slash. */
  readonly name: string;
  readonly project: string;
  readonly service: string;
  /** Docker state: `created`, `running`, `restarting`, `exited`, `paused`, `dead`, `removing`. */
  readonly state: string;
  /** Exit code when exited (parsed from the status text), else null. */
  readonly exitCode: number | null;
  readonly health: 'healthy' | 'unhealthy' | 'starting' | null;
  readonly labels: Readonly<Record<string, string>>;
  readonly image: string;
  /** The id (`sha256:…`) of the image it was created from. */
  readonly imageId?: string;
  readonly created: number;
  /**
   * Times the engine restarted it under its restart policy (inspect's `RestartCount`); absent
   * when only listed, never inspected (see Informer.observeProject).
   */
  readonly restartCount?: number;
  /** When it last started (inspect's `State.StartedAt`, ms since the epoch); absent as above. */
  readonly startedAt?: number;
}

export interface ObservedProject {
  readonly project: string;
  /** Non one-off containers of the project. */
  readonly containers: readonly ObservedContainer[];
}

export interface Observation {
  /** The engine answered the last list / event stream. */
  readonly up: boolean;
  /** The projects below are the last known ones, the engine is not answering now. */
  readonly stale: boolean;
  readonly at: Date;
  /** Why the engine is not reachable, when `up` is false. */
  readonly error: string | null;
  /** Every compose project on the engine (ours or not), by project name. */
  readonly projects: ReadonlyMap<string, ObservedProject>;
}

export type ProjectListener = (project: string) => void;

export interface Informer {
  /** List once, then follow events; resolves after the first list (or first failure). */
  start(): Promise<void>;
  stop(): Promise<void>;
  current(): Observation;
  /** Called with the compose project of every container event (and every project on relist). */
  onChange(listener: ProjectListener): () => void;
  /**
   * A fresh list of one project's containers straight from the engine, each inspected for its
   * restart count and start time (updates the cache).
   */
  observeProject(project: string, signal?: AbortSignal): Promise<ObservedProject | undefined>;
  /** The last `lines` lines of a container's output; '' when there are none or the engine cannot say. */
  logTail(containerId: string, lines: number, signal?: AbortSignal): Promise<string>;
}
