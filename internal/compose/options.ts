/** Options of the compose runner. */
import type { ChildRegistry } from './children.js';
import type { PinOptions } from './pin.js';
import type { LogMeta } from '../log/events.js';

/** The part of a winston logger the runner uses. */
export interface ComposeLogger {
  debug(message: string, meta: LogMeta): unknown;
  warn(message: string, meta: LogMeta): unknown;
}

export interface ComposeRunnerOptions {
  /**
   * `auto`, or the command to run, split into words: `docker compose`, `docker-compose`,
   * `/usr/local/bin/docker-compose`. `auto` uses `docker compose` when `docker compose version`
   * works, else `docker-compose`; decided on first use and remembered.
   * @default 'auto'
   */
  readonly command?: string;
  /**
   * Environment added to `process.env` for every compose process (`DOCKER_HOST` and friends are
   * inherited from `process.env` anyway).
   * @default {}
   */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Where the command is pinned: the `DOCKER_CONFIG` directory stackd owns, and the directories
   * nothing is run from. See pinComposeCommand.
   * @default none (the command is still pinned to absolute paths; DOCKER_CONFIG is left alone)
   */
  readonly pin?: Omit<PinOptions, 'command'>;
  /**
   * Where running compose processes are recorded, so that a stackd started after this one died
   * can reap them (`ChildRegistry.reap`). Only for a process holding the dataDir lock.
   * @default none
   */
  readonly children?: ChildRegistry;
  /** @default a logger that discards everything */
  readonly logger?: ComposeLogger;
  /**
   * Timeout of the `version` probes (`auto` detection, `describe()`), in ms.
   * @default 15000
   */
  readonly probeTimeoutMs?: number;
}

export const silentLogger: ComposeLogger = {
  debug: () => undefined,
  warn: () => undefined,
};
