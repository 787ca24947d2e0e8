/** The compose runner's face: validate, apply and remove one project (DESIGN.md §1). */
import type { PinnedCommand } from './pin.js';

export interface ComposeTarget {
  readonly project: string;
  /** `--project-directory`: the stack's working directory. */
  readonly dir: string;
  /** `-f` files in order (absolute or relative to `dir`); the generated override comes last. */
  readonly files: readonly string[];
  /**
   * `--env-file`: the stack's tracked `.env`, or an empty file, so that an untracked `.env` in the
   * work tree is never read. Unset: compose's default (`.env` in `dir`).
   */
  readonly envFile?: string;
}

export interface ComposeRunOptions {
  readonly signal?: AbortSignal;
  /** Kill the whole process group after this many ms. */
  readonly timeoutMs?: number;
  /** `up` only: `--force-recreate`, every service's containers recreated (x-stackd.recreate: stack). */
  readonly forceRecreate?: boolean;
}

/** What a build did. */
export interface BuildResult {
  readonly durationMs: number;
  /** Its output, stdout and stderr interleaved. */
  readonly output: string;
  /** `classic` when BuildKit could not be used (no buildx plugin) and `DOCKER_BUILDKIT=0` was. */
  readonly builder: 'default' | 'classic';
}

export interface ComposeRunner {
  /** `config -q`: throws a ComposeError naming what compose rejected. */
  validate(target: ComposeTarget, options?: ComposeRunOptions): Promise<void>;
  /** `up -d --remove-orphans` (and `--force-recreate` with `options.forceRecreate`). */
  up(target: ComposeTarget, options?: ComposeRunOptions): Promise<void>;
  /**
   * `build -- SERVICES` (nothing when empty). A failure is a ComposeError whose `outputTail` has
   * the build output's last lines. When BuildKit refuses for want of the buildx plugin and
   * `DOCKER_BUILDKIT` is not set, the build is retried with the classic builder
   * (`DOCKER_BUILDKIT=0`), which later builds and `up`s of this runner then use too.
   */
  build(
    target: ComposeTarget,
    services: readonly string[],
    options?: ComposeRunOptions,
  ): Promise<BuildResult>;
  /**
   * `pull -- SERVICES` (nothing when empty): the image updates of watched services, pulled before
   * `up` recreates just those. A failure is a ComposeError.
   */
  pull(target: ComposeTarget, services: readonly string[], options?: ComposeRunOptions): Promise<void>;
  /** `down --remove-orphans` (volumes kept). */
  down(target: ComposeTarget, options?: ComposeRunOptions): Promise<void>;
  /** e.g. `docker compose` 2.26.1 or `docker-compose` 1.29.2. */
  describe(): Promise<string>;
  /**
   * Pin the command to absolute paths (once; later calls return the same answer): call at start,
   * so nothing planted afterwards is ever run. Every other method pins first if needed.
   */
  pin(): Promise<PinnedCommand>;
}
