/**
 * Scenario 4: memory. A daemon with `MEMORY_N` stacks in its snapshot, reconciliation paused
 * (nothing is applied: every stack is reported out_of_sync), at rest: VmRSS from /proc.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createTestRepo, type TestRepo } from '../../test/helpers/git-repo.js';
import { type Bench, composeFile } from '../lib/context.js';
import { Daemon } from '../lib/stackd.js';
import { type Summary, pollUntil, sleep, summarize } from '../lib/util.js';

export interface MemoryResult {
  readonly n: number;
  /** Spawn → every stack listed with its desired state. */
  readonly readyMs: number;
  /** Samples of VmRSS at rest, kB, and the peak (VmHWM). */
  readonly rssKbSamples: readonly number[];
  readonly rssKb: number;
  readonly hwmKb: number;
  /** From the daemon's own /metrics (prom-client), bytes. */
  readonly heapUsedBytes: number;
  readonly statuses: Record<string, number>;
  /** What one API request costs at this size (after the memory samples), ms. */
  readonly getStacksMs: Summary;
  readonly getMetricsMs: Summary;
  readonly metricsBytes: number;
  readonly stateBytes: number;
}

export interface MemoryDaemon {
  readonly daemon: Daemon;
  readonly repo: TestRepo;
  readonly prefix: string;
  readonly result: MemoryResult;
}

export async function runMemory(b: Bench, n: number, log: (s: string) => void): Promise<MemoryDaemon> {
  const repo = await createTestRepo(b.root, 'mem');
  const prefix = `${b.prefix}m`;
  const files: Record<string, string> = { 'README.md': 'memory benchmark\n' };
  for (let i = 0; i < n; i++) files[`${prefix}/s${String(i).padStart(3, '0')}/compose.yaml`] = composeFile(1);
  await repo.commit(files, `${n} stacks`);
  const head = await repo.head();
  log(`memory: daemon with ${n} stacks in the snapshot, reconciliation paused`);
  const d = new Daemon(
    b.env({
      STACKD_SOURCE_URL: b.git.url('mem'),
      STACKD_INSTANCE: `${b.instance}-mem`,
      STACKD_DATA_DIR: join(b.root, 'data-mem'),
      STACKD_SCOPE_INCLUDE: `${prefix}/**`,
      STACKD_RECONCILE_ENABLED: 'false',
    }),
    b.settings.cpuProfDir,
  );
  try {
    await d.waitListening();
    const ready = await pollUntil(
      `${n} stacks listed`,
      async () => {
        const s = await d.stacks();
        return s.revision === head &&
          s.stacks.length === n &&
          s.stacks.every((x) => x.desired !== null && x.status !== 'unknown')
          ? s
          : undefined;
      },
      { intervalMs: 100, timeoutMs: 120_000 },
    );
    await sleep(5000); // at rest: no polling, no requests
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) {
      samples.push((await d.memory()).rssKb);
      await sleep(500);
    }
    const { hwmKb } = await d.memory();
    const heapUsedBytes = await d.metric('nodejs_heap_size_used_bytes');
    const timed = async (path: string): Promise<{ ms: number; bytes: number }> => {
      const t = performance.now();
      const body = await (await d.get(path)).text();
      return { ms: performance.now() - t, bytes: Buffer.byteLength(body) };
    };
    const stacksTimes: number[] = [];
    const metricsTimes: number[] = [];
    let metricsBytes = 0;
    for (let i = 0; i < 5; i++) {
      stacksTimes.push((await timed('/api/v1/stacks')).ms);
      const m = await timed('/metrics');
      metricsTimes.push(m.ms);
      metricsBytes = m.bytes;
    }
    const stateBytes = (await stat(join(b.root, 'data-mem', 'state.json'))).size;
    const statuses: Record<string, number> = {};
    for (const s of ready.value.stacks) statuses[s.status] = (statuses[s.status] ?? 0) + 1;
    return {
      daemon: d,
      repo,
      prefix,
      result: {
        n,
        readyMs: ready.at - d.spawnedAt,
        rssKbSamples: samples,
        rssKb: Math.max(...samples),
        hwmKb,
        heapUsedBytes,
        statuses,
        getStacksMs: summarize(stacksTimes),
        getMetricsMs: summarize(metricsTimes),
        metricsBytes,
        stateBytes,
      },
    };
  } catch (error) {
    await d.stop();
    throw error;
  }
}
