/** Desired-state types published by the desired source (DESIGN.md §2). Immutable once published. */
import type { SecretFormat } from '../../pkg/sops/index.js';
import type { ServiceParts } from '../../pkg/composehash/index.js';
import type { MaterializeReport } from './materialize.js';
import type { StackIntent, UpdatePolicy } from './x_stackd.js';

export interface DesiredService {
  readonly name: string;
  /** `sha256:<64 hex>` over the service's definition and everything it can depend on. */
  readonly hash: string;
  /** `restart: "no"` set explicitly: the container may exit 0 and still count as in sync. */
  readonly oneShot: boolean;
  /** The compose file defines a healthcheck (not `disable: true`): wait for `healthy`. */
  readonly healthcheck: boolean;
  /**
   * Containers `compose up` keeps: `deploy.replicas` or `scale` (default 1); null when not a plain
   * number (interpolated), meaning at least one. Services scaled to 0 are not in `services`.
   */
  readonly replicas: number | null;
  /** The service has a `build:` key: an apply that changes it builds its image first. */
  readonly build: boolean;
  /** Its `image:` after interpolation (named when a pull fails); null or absent when none. */
  readonly image?: string | null;
  /**
   * Its image update policy from `x-stackd.update` (the service's own, else its stack's); null or
   * absent: the global `images.update`.
   */
  readonly update?: UpdatePolicy | null;
  /** What its hash is made of (image, definition, files): names what changed (`why`). */
  readonly parts?: ServiceParts;
}

export interface DesiredStack {
  /** Directory relative to `source.path`, `/`-separated: `apps/web`. */
  readonly id: string;
  /** Directory relative to the repository root (`source.path` + id). */
  readonly dir: string;
  /** Compose project name: top-level `name:` or derived from the id. */
  readonly project: string;
  /** Compose files relative to the stack directory, in `-f` order (main file, then override). */
  readonly composeFiles: readonly string[];
  /** `sha256:<64 hex>`, or null when the stack is invalid. */
  readonly composeHash: string | null;
  /** Services that `compose up` starts (services with `profiles` or 0 replicas are left out), by name. */
  readonly services: ReadonlyMap<string, DesiredService>;
  /** Why the stack is invalid (names the file and line where known), or null. */
  readonly error: string | null;
  /** Every tracked file of the stack directory: path relative to it → Git blob id. */
  readonly files: ReadonlyMap<string, string>;
  /**
   * Git file modes of `files` that are not regular files: `100755` (executable) or `120000`
   * (symbolic link). Absent (or a path missing from it) means `100644`.
   */
  readonly fileModes?: ReadonlyMap<string, string>;
  /**
   * Files decrypted into the work tree (SOPS, age): plain path → the tracked encrypted file it
   * comes from and its format (`app.env` ← `app.sops.env`, dotenv). Absent when there are none.
   */
  readonly secrets?: ReadonlyMap<string, { readonly source: string; readonly format: SecretFormat }>;
  /** Its top-level `x-stackd` (suspend, prune, dependsOn, …); absent: none set (NO_INTENT). */
  readonly intent?: StackIntent;
}

export interface Snapshot {
  /** Commit id the snapshot was built from (for `validate` on a plain directory: `local`). */
  readonly revision: string;
  readonly fetchedAt: Date;
  /** In-scope stacks only, by id. */
  readonly stacks: ReadonlyMap<string, DesiredStack>;
  /**
   * Compose files directly at `source.path` (relative to the repository root), which deploy
   * nothing: the root of the stacks is never a stack. Absent when there are none.
   */
  readonly rootComposeFiles?: readonly string[];
}

export type SnapshotListener = (snapshot: Snapshot) => void;

export interface Source {
  /**
   * Fetch the branch and publish a new snapshot if the revision changed (or none exists yet).
   * On failure throws a `SourceError` and keeps the last good snapshot.
   */
  refresh(signal?: AbortSignal): Promise<Snapshot>;
  /** The last good snapshot, if any (after a restart: rebuilt from the local object store). */
  current(): Snapshot | undefined;
  subscribe(listener: SnapshotListener): () => void;
  /**
   * Make `workRoot/<id>` hold exactly the stack's tracked files of the snapshot it came from:
   * write new and changed files, delete files an earlier materialize wrote that are gone from
   * Git, never touch any other file (untracked data written by containers survives), and never
   * follow a symbolic link. A work tree whose shape something else changed is a WorkTreeError.
   */
  materialize(stack: DesiredStack, workRoot: string): Promise<MaterializeReport>;
  /**
   * The files the last materialize of stack `id` wrote under `workRoot/<id>` (paths relative to
   * it; empty when none is known): what a removal may hand to compose, never anything a
   * container dropped there.
   */
  trackedFiles(id: string, workRoot: string): Promise<ReadonlySet<string>>;
  /**
   * Stack `id` as it was at an earlier `revision`, read from the local objects (no fetch), for a
   * rollback; undefined when that commit or stack is not there.
   */
  stackAt(revision: string, id: string): Promise<DesiredStack | undefined>;
}
