/** Work queue metrics, adapted from the queue's own hooks (client-go's workqueue metric set). */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { WorkQueueMetrics } from '../../pkg/workqueue/index.js';
import {
  WORKQUEUE_ADDS_TOTAL,
  WORKQUEUE_DEPTH,
  WORKQUEUE_LONGEST_RUNNING_PROCESSOR_SECONDS,
  WORKQUEUE_QUEUE_DURATION_SECONDS,
  WORKQUEUE_RETRIES_TOTAL,
  WORKQUEUE_WORK_DURATION_SECONDS,
} from './names.js';

/** Seconds; waits range from nothing to a rate limiter's backoff, work from a no-op to a slow apply. */
const QUEUE_BUCKETS = [0.001, 0.01, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

export function queueHooks(
  registry: Registry,
  longestRunningSeconds: () => number,
): Required<WorkQueueMetrics> {
  const depth = new Gauge({
    name: WORKQUEUE_DEPTH,
    help: 'Stacks waiting in the work queue.',
    registers: [registry],
  });
  const adds = new Counter({
    name: WORKQUEUE_ADDS_TOTAL,
    help: 'Stacks added to the work queue (adding one already waiting is not counted).',
    registers: [registry],
  });
  const queueDuration = new Histogram({
    name: WORKQUEUE_QUEUE_DURATION_SECONDS,
    help: 'Time a stack waited in the work queue before a worker took it, in seconds.',
    buckets: QUEUE_BUCKETS,
    registers: [registry],
  });
  const workDuration = new Histogram({
    name: WORKQUEUE_WORK_DURATION_SECONDS,
    help: 'Time a worker spent on a stack taken from the work queue, in seconds.',
    buckets: QUEUE_BUCKETS,
    registers: [registry],
  });
  const retries = new Counter({
    name: WORKQUEUE_RETRIES_TOTAL,
    help: 'Stacks re-added to the work queue after a failure.',
    registers: [registry],
  });
  new Gauge({
    name: WORKQUEUE_LONGEST_RUNNING_PROCESSOR_SECONDS,
    help: 'How long the longest-running worker has been working on its stack, in seconds.',
    registers: [registry],
    collect() {
      this.set(longestRunningSeconds());
    },
  });
  return {
    depth: (n) => {
      depth.set(n);
    },
    add: () => {
      adds.inc();
    },
    queueDuration: (seconds) => {
      queueDuration.observe(seconds);
    },
    workDuration: (seconds) => {
      workDuration.observe(seconds);
    },
    retry: () => {
      retries.inc();
    },
  };
}
