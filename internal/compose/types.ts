/** The compose runner's face: validate, apply and remove one project (DESIGN.md §1). */

export interface ComposeTarget {
  readonly project: string;
  /** `--project-directory`: the stack's working directory. */
  readonly dir: string;
  /** `-f` files in order (absolute or relative to `dir`); the generated override comes last. */
  readonly files: readonly string[];
}

export interface ComposeRunOptions {
  readonly signal?: AbortSignal;
  /** Kill the whole process group after this many ms. */
  readonly timeoutMs?: number;
}

export interface ComposeRunner {
  /** `config -q`: throws a ComposeError naming what compose rejected. */
  validate(target: ComposeTarget, options?: ComposeRunOptions): Promise<void>;
  /** `up -d --remove-orphans`. */
  up(target: ComposeTarget, options?: ComposeRunOptions): Promise<void>;
  /** `down --remove-orphans` (volumes kept). */
  down(target: ComposeTarget, options?: ComposeRunOptions): Promise<void>;
  /** e.g. `docker compose` 2.26.1 or `docker-compose` 1.29.2. */
  describe(): Promise<string>;
}
