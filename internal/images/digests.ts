/**
 * What an apply knows about the images of a stack's watched services (those whose update policy is
 * not `off`): which digest each runs, which one its registry serves now, which one failed, and so
 * which one the apply must run. Pure: the watcher and the local image cache fill it in.
 */
import type { UpdatePolicy } from '../source/x_stackd.js';
import { type ImageReference, parseReference } from './reference.js';

export interface ServiceDigest {
  /** `digest` or `notify` (services with `off` are not here). */
  readonly policy: Exclude<UpdatePolicy, 'off'>;
  /** The service's `image:` as Git has it (`localhost:5000/app:1`). */
  readonly image: string;
  /** The digest its container runs (label `io.stackd.image-digest`, else the image's RepoDigests). */
  readonly running?: string;
  /** The digest its registry serves for the tag now, from the last successful check. */
  readonly available?: string;
  /** A digest that failed (readiness, rollback) and is not applied again until it changes or a manual sync. */
  readonly rejected?: string;
  /**
   * The digest this apply must run, when it differs from `running`: the available one (pulled), or
   * on a rollback the one it ran before (`restore`: that image's id, re-tagged).
   */
  readonly want?: string;
  readonly restore?: string;
}

/** By service name. */
export type StackDigests = ReadonlyMap<string, ServiceDigest>;

/** A service whose image can be watched: a tag (not a pinned digest), and not built here. */
export function watchableReference(service: {
  readonly image?: string | null;
  readonly build: boolean;
}): ImageReference | null {
  if (service.build || typeof service.image !== 'string') return null;
  const ref = parseReference(service.image);
  return ref === null || ref.tag === null || ref.digest !== null ? null : ref;
}

/** The digest of `ref`'s repository among an image's RepoDigests (`localhost:5000/app@sha256:…`). */
export function repoDigestOf(repoDigests: readonly string[], ref: ImageReference): string | undefined {
  for (const entry of repoDigests) {
    const parsed = parseReference(entry);
    if (parsed?.name === ref.name && parsed.digest !== null) return parsed.digest;
  }
  return undefined;
}

/** `sha256:0123456789ab`: how messages name a digest. */
export function shortDigest(digest: string | undefined): string {
  return digest === undefined ? 'none' : digest.slice(0, 19);
}

/** The services whose available digest is newer than the one they run and not rejected. */
export function pendingUpdates(digests: StackDigests | undefined): string[] {
  const out: string[] = [];
  for (const [name, d] of digests ?? []) if (d.want !== undefined && d.want !== d.running) out.push(name);
  return out;
}
