/** Per-stack metrics: status, last sync time, reconcile outcomes and durations. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ControllerHooks } from '../controller/hooks.js';
import { STACK_STATUSES } from '../status/index.js';
import {
  BUILDS_TOTAL,
  IMAGE_CHECKS_TOTAL,
  IMAGE_UPDATE_AVAILABLE,
  RECONCILE_DURATION_SECONDS,
  RECONCILE_TOTAL,
  ROLLBACKS_TOTAL,
  STACK_LAST_SYNC_TIMESTAMP_SECONDS,
  STACK_STATUS,
  STACK_SUSPENDED,
  type Result,
} from './names.js';

/** Seconds; an apply pulls nothing (images are local or cached) but may wait for health checks. */
const RECONCILE_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 180, 300, 600];
const RESULTS: readonly Result[] = ['success', 'failure'];

export function stackHooks(
  registry: Registry,
): Required<
  Pick<ControllerHooks, 'stackRecord' | 'stackGone' | 'reconcile' | 'rollback' | 'build' | 'imageCheck'>
> {
  const status = new Gauge({
    name: STACK_STATUS,
    help: `The status of each stack: 1 for the current one, 0 for the others (${STACK_STATUSES.join(', ')}).`,
    labelNames: ['stack', 'status'] as const,
    registers: [registry],
  });
  const lastSync = new Gauge({
    name: STACK_LAST_SYNC_TIMESTAMP_SECONDS,
    help: 'Unix time at which each stack was last applied (its running containers created or updated).',
    labelNames: ['stack'] as const,
    registers: [registry],
  });
  const reconciles = new Counter({
    name: RECONCILE_TOTAL,
    help: 'Applies and removals of a stack, by result (success, failure).',
    labelNames: ['stack', 'result'] as const,
    registers: [registry],
  });
  const rollbacks = new Counter({
    name: ROLLBACKS_TOTAL,
    help: 'Automatic rollbacks of a stack to its last synced revision (reconcile.rollback), by result.',
    labelNames: ['stack', 'result'] as const,
    registers: [registry],
  });
  const builds = new Counter({
    name: BUILDS_TOTAL,
    help: 'Builds of the changed services with build: of a stack, run before compose up, by result.',
    labelNames: ['stack', 'result'] as const,
    registers: [registry],
  });
  const updates = new Gauge({
    name: IMAGE_UPDATE_AVAILABLE,
    help: 'Watched services (x-stackd.update / images.update digest or notify) whose registry serves a digest they do not run: 1, else 0.',
    labelNames: ['stack', 'service'] as const,
    registers: [registry],
  });
  const checks = new Counter({
    name: IMAGE_CHECKS_TOTAL,
    help: 'Registry digest checks of watched image tags (a HEAD of the manifest, never a pull), by result.',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  for (const result of RESULTS) checks.inc({ result }, 0);
  /** The services each stack has an update_available series for. */
  const watched = new Map<string, Set<string>>();
  const dropUpdates = (stack: string, keep: ReadonlySet<string> = new Set()): void => {
    for (const service of watched.get(stack) ?? [])
      if (!keep.has(service)) updates.remove({ stack, service });
  };
  const suspended = new Gauge({
    name: STACK_SUSPENDED,
    help: 'Whether each stack is suspended (x-stackd.suspend, or stackd suspend through the API): 1, else 0.',
    labelNames: ['stack'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: RECONCILE_DURATION_SECONDS,
    help: 'Duration of applies and removals of stacks, in seconds.',
    buckets: RECONCILE_BUCKETS,
    registers: [registry],
  });
  /** What each stack's series were last set from: a record that changes none of them costs nothing. */
  const shown = new Map<
    string,
    { status: string; suspended: boolean; at: string | null; services: unknown }
  >();
  return {
    stackRecord: (stack, record) => {
      const seen = {
        status: record.status,
        suspended: record.suspended != null,
        at: record.synced === null ? null : (record.synced.appliedAt ?? record.synced.at),
        services: record.services,
      };
      const last = shown.get(stack);
      if (
        last?.status === seen.status &&
        last.suspended === seen.suspended &&
        last.at === seen.at &&
        last.services === seen.services
      )
        return;
      shown.set(stack, seen);
      for (const s of STACK_STATUSES) status.set({ stack, status: s }, s === record.status ? 1 : 0);
      suspended.set({ stack }, record.suspended == null ? 0 : 1);
      // When the running containers were applied: a commit that changes nothing here does not move it.
      const at =
        record.synced === null ? Number.NaN : Date.parse(record.synced.appliedAt ?? record.synced.at);
      if (Number.isNaN(at)) lastSync.remove({ stack });
      else lastSync.set({ stack }, at / 1000);
      const now = new Set<string>();
      for (const s of record.services) {
        if (s.digest === undefined) continue;
        now.add(s.name);
        updates.set({ stack, service: s.name }, s.availableDigest == null ? 0 : 1);
      }
      dropUpdates(stack, now);
      if (now.size > 0) watched.set(stack, now);
      else watched.delete(stack);
    },
    imageCheck: (result) => {
      checks.inc({ result });
    },
    stackGone: (stack) => {
      shown.delete(stack);
      for (const s of STACK_STATUSES) status.remove({ stack, status: s });
      suspended.remove({ stack });
      dropUpdates(stack);
      watched.delete(stack);
      lastSync.remove({ stack });
      for (const result of RESULTS) {
        reconciles.remove({ stack, result });
        rollbacks.remove({ stack, result });
        builds.remove({ stack, result });
      }
    },
    rollback: (stack, result) => {
      rollbacks.inc({ stack, result });
    },
    build: (stack, result) => {
      builds.inc({ stack, result });
    },
    reconcile: (stack, result, seconds) => {
      reconciles.inc({ stack, result });
      duration.observe(seconds);
    },
  };
}
