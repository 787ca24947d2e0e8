/** Options of the informer, with their defaults. */
import type Dockerode from 'dockerode';
import type { Clock } from '../../pkg/clock/index.js';
import { checkNumber } from '../../pkg/validate/index.js';
import type { LogMeta } from '../log/events.js';

/** The part of a winston logger the informer uses. */
export interface InformerLogger {
  debug(message: string, meta: LogMeta): unknown;
  info(message: string, meta: LogMeta): unknown;
  warn(message: string, meta: LogMeta): unknown;
}

export interface ReconnectOptions {
  /**
   * First delay after the engine stops answering, in ms; doubled on every failed attempt.
   * @default 1000
   */
  readonly baseMs?: number;
  /**
   * Longest delay between attempts, in ms.
   * @default 30000
   */
  readonly maxMs?: number;
}

export interface InformerOptions {
  /** @default new Dockerode(): `DOCKER_HOST` when set, else `/var/run/docker.sock` */
  readonly docker?: Dockerode;
  /** @default a logger that discards everything */
  readonly logger?: InformerLogger;
  /** @default { baseMs: 1000, maxMs: 30000 } */
  readonly reconnect?: ReconnectOptions;
  /** @default the real clock */
  readonly clock?: Clock;
  /**
   * Re-list the projects that had events once events have been quiet this many ms: a burst
   * (`compose up` of many containers) causes one list per project, not one per event.
   * @default 100
   */
  readonly coalesceMs?: number;
  /**
   * Longest wait from the first event of a burst to the re-list, however long the burst goes on.
   * @default 1000
   */
  readonly coalesceMaxMs?: number;
  /**
   * Longest wait for one answer of the engine (a container list, or the response that opens the
   * event stream), in ms. An engine that accepts connections but never answers (hung, or a
   * black-holed TCP `DOCKER_HOST`) then counts as unreachable instead of blocking forever.
   * @default 30000
   */
  readonly requestTimeoutMs?: number;
  /**
   * How the engine is named in messages.
   * @default derived from the client: `unix:///var/run/docker.sock`, `tcp://host:2376`
   */
  readonly endpoint?: string;
}

export const silentLogger: InformerLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
};

/** Validates one number option (a finite number from `min` and up) and returns it. */
export function checkMs(name: string, value: number, min: number): number {
  checkNumber(name, value, min);
  return value;
}
