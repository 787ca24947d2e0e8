/** Desired-source metrics: fetch outcomes and durations, the current revision, the last good fetch. */
import type { Clock } from '../../pkg/clock/index.js';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ControllerHooks } from '../controller/hooks.js';
import {
  SOURCE_FETCH_DURATION_SECONDS,
  SOURCE_FETCH_TOTAL,
  SOURCE_LAST_SUCCESS_TIMESTAMP_SECONDS,
  SOURCE_REVISION_INFO,
} from './names.js';

/** Seconds; a fetch is a Git round trip plus discovery and hashing. */
const FETCH_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export function sourceHooks(
  registry: Registry,
  clock: Clock,
): Required<Pick<ControllerHooks, 'fetch' | 'revision'>> {
  const fetches = new Counter({
    name: SOURCE_FETCH_TOTAL,
    help: 'Fetches of the desired-state repository, by result (success, failure).',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  for (const result of ['success', 'failure']) fetches.inc({ result }, 0);
  const duration = new Histogram({
    name: SOURCE_FETCH_DURATION_SECONDS,
    help: 'Duration of fetches of the desired-state repository, in seconds.',
    buckets: FETCH_BUCKETS,
    registers: [registry],
  });
  const lastSuccess = new Gauge({
    name: SOURCE_LAST_SUCCESS_TIMESTAMP_SECONDS,
    help: 'Unix time of the last successful fetch of the desired-state repository.',
    registers: [registry],
  });
  const revision = new Gauge({
    name: SOURCE_REVISION_INFO,
    help: 'The commit of the current desired state: 1 for that revision only.',
    labelNames: ['revision'] as const,
    registers: [registry],
  });
  return {
    fetch: (result, seconds) => {
      fetches.inc({ result });
      duration.observe(seconds);
      if (result === 'success') lastSuccess.set(clock.date().getTime() / 1000);
    },
    revision: (current) => {
      revision.reset();
      revision.set({ revision: current }, 1);
    },
  };
}
