/**
 * A stack's own intent (its compose file's top-level `x-stackd`, and a suspension through the
 * API) over the global settings: the settings one reconcile of it runs with, whether it is
 * suspended, and which of its dependencies (`dependsOn`) is not synced at the desired revision.
 */
import type { DesiredStack, Snapshot } from '../source/types.js';
import type { StackRecord } from '../state/index.js';
import type { Suspension } from '../status/index.js';
import type { ReconcileSettings } from './options.js';

/** The global settings with the stack's own `x-stackd` values over them. */
export function stackSettings<
  S extends Pick<ReconcileSettings, 'prune' | 'selfHeal'> & Partial<ReconcileSettings>,
>(current: S, desired: DesiredStack | undefined, record: StackRecord | undefined): S {
  const intent = desired?.intent;
  // A stack deleted from Git (or unreadable) has no intent to read: its last known `prune` decides.
  const prune = desired === undefined || desired.error !== null ? record?.prune : intent?.prune;
  return {
    ...current,
    prune: prune ?? current.prune,
    selfHeal: intent?.selfHeal ?? current.selfHeal,
    ...(current.rollback === undefined ? {} : { rollback: intent?.rollback ?? current.rollback }),
    ...(current.minReadyMs === undefined ? {} : { minReadyMs: intent?.minReadyMs ?? current.minReadyMs }),
  };
}

/**
 * The suspension in force: one set through the API (kept in the record) wins over the compose
 * file's; a repository suspension keeps the time it was first seen.
 */
export function suspensionOf(
  desired: DesiredStack | undefined,
  record: StackRecord | undefined,
  now: () => string,
): Suspension | null {
  const recorded = record?.suspended ?? null;
  if (recorded?.by === 'api') return recorded;
  // Gone from Git (moved, deleted) or unreadable this commit: what the file said last still holds,
  // so a suspended stack is not removed or re-applied because its compose file cannot be read.
  if (desired === undefined || desired.error !== null) return recorded;
  const repo = desired.intent?.suspend ?? null;
  if (repo === null) return null;
  return recorded?.by === 'repo' && recorded.reason === repo.reason
    ? recorded
    : { ...repo, by: 'repo', at: now() };
}

/** How a suspension reads in a message and in the plan: `suspended (api): db migration`. */
export function suspensionWords(s: Suspension): string {
  return `suspended (${s.by === 'repo' ? 'x-stackd.suspend' : 'stackd suspend'}): ${s.reason}`;
}

/**
 * The first dependency (`x-stackd.dependsOn`) that is not synced at the snapshot's revision, in
 * words (`waiting for apps/db: failed`); null when every one is.
 */
export function waitingFor(
  desired: DesiredStack | undefined,
  snapshot: Snapshot,
  record: (id: string) => StackRecord | undefined,
): string | null {
  for (const dep of desired?.intent?.dependsOn ?? []) {
    const r = record(dep);
    if (r?.status === 'synced' && r.synced?.revision === snapshot.revision) continue;
    const state =
      r === undefined
        ? 'not deployed yet'
        : r.status === 'synced'
          ? `not yet checked at ${snapshot.revision.slice(0, 7)}`
          : r.status === 'failed'
            ? 'failed'
            : r.status === 'syncing'
              ? 'syncing'
              : `${r.status}${r.message === '' ? '' : ` (${r.message.split('\n', 1)[0]?.slice(0, 120) ?? ''})`}`;
    return `waiting for ${dep}: ${state}`;
  }
  return null;
}

/** A stack's own value that cannot work with the global ones, in words; null when none. */
export function intentProblem(desired: DesiredStack | undefined, current: ReconcileSettings): string | null {
  const minReady = desired?.intent?.minReadyMs;
  if (minReady == null || minReady < current.timeoutMs) return null;
  return `\`x-stackd.minReady\` (${minReady} ms) must be shorter than reconcile.timeout (${current.timeoutMs} ms), which bounds the whole apply`;
}
