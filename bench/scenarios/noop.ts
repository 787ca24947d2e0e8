/**
 * Scenario 1: a no-op pass over N in-sync stacks after a commit that touches only README.md.
 * (a) inside a running daemon (POST /api/v1/refresh → every stack's synced.revision is the new
 * head), (b) `stackd sync --once` (process start to exit), (c) the naive cron loop:
 * `docker compose up -d` for each stack, one after another.
 */
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Bench } from '../lib/context.js';
import { Daemon } from '../lib/stackd.js';
import { syncOnce } from '../lib/stackd.js';
import { type Summary, pollUntil, runCommand, sleep, summarize, watchReplacements } from '../lib/util.js';
import {
  type Counts,
  type DeployResult,
  allSynced,
  assertAllSynced,
  countSince,
  ensureDeployed,
  mark,
} from './common.js';

export interface PassSample extends Counts {
  readonly ms: number;
  /** API polls it took to see the end (resolution: one poll interval). */
  readonly polls: number;
  /** Refresh asked → the fetch of the new head logged (daemon passes only). */
  readonly fetchMs?: number | null;
  /** ms after the refresh at which stackd's own Docker API calls were made (daemon passes). */
  readonly apiAt?: readonly number[];
  /** Refresh asked → the daemon's run record for the new head says finished (ms resolution). */
  readonly runMs?: number | null;
  /** Times state.json was replaced during the pass (fs.watch, approximate). */
  readonly stateWrites?: number;
  /** What the snapshot build read again, from the `source.fetch` line (daemon passes). */
  readonly treesRead?: number | null;
  readonly parsed?: number | null;
}

export interface NoopResult {
  readonly n: number;
  readonly deploy: DeployResult | null;
  readonly daemon: {
    /** Spawn → listening, and spawn → every stack synced at the head (startup pass). */
    readonly startupListenMs: number;
    readonly startupSyncedMs: number;
    readonly startup: Counts;
    readonly passes: readonly PassSample[];
    readonly ms: Summary;
    /** Passes with nobody polling the API; the end is the daemon's own run record. */
    readonly quiet: readonly PassSample[];
    readonly quietMs: Summary;
    /** Size of state.json after the passes, and the run records it holds then. */
    readonly stateBytes: number;
    readonly runsRetained: number;
    /** VmRSS / VmHWM after the passes, at rest. */
    readonly rssKb: number;
    readonly hwmKb: number;
    /** Latency of GET /api/v1/stacks at rest (what the 20 ms poll costs). */
    readonly getStacksMs: Summary;
    readonly stopMs: number;
    /**
     * A commit adding a file to one stack's directory (its hash changes, no container does):
     * refresh → every stack synced at it, and what the build read again.
     */
    readonly oneStack: PassSample;
  };
  readonly once: { readonly runs: readonly PassSample[]; readonly ms: Summary };
  /** Null above BENCH_NAIVE_MAX_N: its cost is linear (per stack × N) and long. */
  readonly naive: {
    readonly ms: number;
    readonly perStackMs: number;
    readonly composeCalls: number;
    readonly apiCalls: number;
    /** Containers whose id changed (must be 0: the loop is a no-op too). */
    readonly recreated: number;
  } | null;
  /** naive loop time / median pass time (null without the naive loop). */
  readonly speedupDaemon: number | null;
  readonly speedupOnce: number | null;
}

export async function runNoop(
  b: Bench,
  n: number,
  repeat: number,
  naiveMaxN: number,
  log: (s: string) => void,
): Promise<NoopResult> {
  const deploy = await ensureDeployed(b, n, log);
  const scope = b.scope(n);

  // (b) stackd sync --once, a fresh process per pass.
  log(`N=${n}: stackd sync --once no-op passes ×${repeat}`);
  const onceRuns: PassSample[] = [];
  for (let i = 0; i < repeat; i++) {
    const head = await b.touchReadme(`sync --once pass ${i}`);
    const m = await mark(b);
    const r = await syncOnce(
      b.env({ STACKD_SCOPE_INCLUDE: scope, STACKD_LOG_LEVEL: 'warn' }),
      b.settings.cpuProfDir,
    );
    await sleep(100);
    if (r.exitCode !== 0 || r.response === undefined) throw new Error(`sync --once failed: ${r.stderr}`);
    assertAllSynced(r.response, n, head);
    onceRuns.push({ ms: r.ms, polls: 0, ...(await countSince(b, m)) });
  }

  // (a) the daemon.
  log(`N=${n}: stackd run, no-op passes ×${repeat}`);
  const startMark = await mark(b);
  const head0 = await b.repo.head();
  const d = new Daemon(b.env({ STACKD_SCOPE_INCLUDE: scope }), b.settings.cpuProfDir);
  let daemonResult: NoopResult['daemon'];
  try {
    await d.waitListening();
    const started = await pollUntil(
      `${n} stacks synced after start`,
      async () => (allSynced(await d.stacks(), n, head0) ? true : undefined),
      { intervalMs: b.settings.pollMs, timeoutMs: 120_000 },
    );
    await sleep(500);
    const startup = await countSince(b, startMark);
    const passes: PassSample[] = [];
    for (let i = 0; i < repeat; i++) {
      const head = await b.touchReadme(`daemon pass ${i}`);
      await sleep(200); // let the push settle; nothing else is running
      const m = await mark(b);
      const logIndex = d.logs.length;
      const writes = await watchReplacements(b.dataDir, 'state.json');
      const sentAt = Date.now();
      const t0 = performance.now();
      const answer = await d.post('/api/v1/refresh');
      if (answer.status !== 202) throw new Error(`POST /api/v1/refresh: ${answer.status}`);
      const done = await pollUntil(
        `${n} stacks synced at ${head}`,
        async () => (allSynced(await d.stacks(), n, head) ? true : undefined),
        { intervalMs: b.settings.pollMs, timeoutMs: 120_000 },
      );
      const ms = done.at - t0;
      await sleep(300); // late calls of this pass are counted too
      const stateWrites = writes.stop();
      const fetched = d.logs
        .slice(logIndex)
        .find((l) => l.line['event'] === 'source.fetch' && l.line['revision'] === head);
      passes.push({
        ms,
        polls: done.polls,
        fetchMs: fetched === undefined ? null : fetched.at - sentAt,
        apiAt: b.stackdProxy.since(m.stackdApi).map((r) => r.at - sentAt),
        runMs: await runFinished(d, head, sentAt),
        stateWrites,
        ...readCounts(fetched?.line),
        ...(await countSince(b, m)),
      });
    }
    const quiet: PassSample[] = [];
    const polledMedian = summarize(passes.map((p) => p.ms)).median;
    for (let i = 0; i < Math.max(1, Math.min(2, repeat)); i++) {
      const head = await b.touchReadme(`quiet daemon pass ${i}`);
      await sleep(200);
      const m = await mark(b);
      const logIndex = d.logs.length;
      const writes = await watchReplacements(b.dataDir, 'state.json');
      const sentAt = Date.now();
      const answer = await d.post('/api/v1/refresh');
      if (answer.status !== 202) throw new Error(`POST /api/v1/refresh: ${answer.status}`);
      await sleep(Math.max(1500, 3 * polledMedian));
      let runMs: number | null = null;
      for (let tries = 0; tries < 60 && runMs === null; tries++) {
        runMs = await runFinished(d, head, sentAt);
        if (runMs === null) await sleep(1000);
      }
      const stateWrites = writes.stop();
      const fetched = d.logs
        .slice(logIndex)
        .find((l) => l.line['event'] === 'source.fetch' && l.line['revision'] === head);
      quiet.push({
        ms: runMs ?? Number.NaN,
        polls: 0,
        fetchMs: fetched === undefined ? null : fetched.at - sentAt,
        apiAt: b.stackdProxy.since(m.stackdApi).map((r) => r.at - sentAt),
        runMs,
        stateWrites,
        ...readCounts(fetched?.line),
        ...(await countSince(b, m)),
      });
    }
    log(`N=${n}: a commit changing one stack`);
    const oneStack = await (async (): Promise<PassSample> => {
      const head = await b.repo.commit(
        { [`${b.stackId(n - 1)}/bench-note.txt`]: `one stack changed ${Date.now()}\n` },
        'one stack changed',
      );
      await sleep(200);
      const m = await mark(b);
      const logIndex = d.logs.length;
      const sentAt = Date.now();
      const t0 = performance.now();
      const answer = await d.post('/api/v1/refresh');
      if (answer.status !== 202) throw new Error(`POST /api/v1/refresh: ${answer.status}`);
      const done = await pollUntil(
        `${n} stacks synced at ${head}`,
        async () => (allSynced(await d.stacks(), n, head) ? true : undefined),
        { intervalMs: b.settings.pollMs, timeoutMs: 120_000 },
      );
      await sleep(300);
      const fetched = d.logs
        .slice(logIndex)
        .find((l) => l.line['event'] === 'source.fetch' && l.line['revision'] === head);
      return {
        ms: done.at - t0,
        polls: done.polls,
        fetchMs: fetched === undefined ? null : fetched.at - sentAt,
        runMs: await runFinished(d, head, sentAt),
        ...readCounts(fetched?.line),
        ...(await countSince(b, m)),
      };
    })();
    const stateBytes = (await stat(join(b.dataDir, 'state.json'))).size;
    const runsRetained = ((await (await d.get('/api/v1/runs')).json()) as { runs: unknown[] }).runs.length;
    await sleep(1000);
    const memory = await d.memory();
    const gets: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      await d.stacks();
      gets.push(performance.now() - t);
    }
    const stop = await d.stop();
    if (stop.code !== 0) throw new Error(`stackd run exited ${stop.code} on SIGTERM`);
    daemonResult = {
      startupListenMs: (d.listenAt ?? Number.NaN) - d.spawnedAt,
      startupSyncedMs: started.at - d.spawnedAt,
      startup,
      passes,
      ms: summarize(passes.map((p) => p.ms)),
      quiet,
      quietMs: summarize(quiet.map((p) => p.ms)),
      stateBytes,
      runsRetained,
      rssKb: memory.rssKb,
      hwmKb: memory.hwmKb,
      getStacksMs: summarize(gets),
      stopMs: stop.ms,
      oneStack,
    };
  } finally {
    await d.stop();
  }

  const once = { runs: onceRuns, ms: summarize(onceRuns.map((r) => r.ms)) };
  if (n > naiveMaxN) {
    log(`N=${n}: no naive loop above BENCH_NAIVE_MAX_N=${naiveMaxN}`);
    return { n, deploy, daemon: daemonResult, once, naive: null, speedupDaemon: null, speedupOnce: null };
  }
  // (c) the naive loop, with the very files stackd applied (so it is a no-op as well).
  log(`N=${n}: naive loop, docker compose up -d ×${n}`);
  const before = await containerIds(b);
  const composeMark = b.composeProxy.mark();
  const env = { ...process.env, DOCKER_HOST: b.composeProxy.dockerHost };
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const work = join(b.dataDir, 'work', b.stackId(i));
    const override = join(b.dataDir, 'overrides', `${b.project(i)}.yaml`);
    const files = [join(work, 'compose.yaml'), override];
    for (const f of files) if (!existsSync(f)) throw new Error(`missing ${f}`);
    const r = await runCommand(
      'docker',
      [
        'compose',
        '-p',
        b.project(i),
        '--project-directory',
        work,
        ...files.flatMap((f) => ['-f', f]),
        'up',
        '-d',
      ],
      { env, cwd: work },
    );
    if (r.code !== 0) throw new Error(`docker compose up -d (${b.project(i)}) failed: ${r.stderr}`);
  }
  const naiveMs = performance.now() - t0;
  const apiCalls = b.composeProxy.since(composeMark).length;
  const after = await containerIds(b);
  let recreated = 0;
  for (const [project, id] of before) if (after.get(project) !== id) recreated++;

  return {
    n,
    deploy,
    daemon: daemonResult,
    once,
    naive: { ms: naiveMs, perStackMs: naiveMs / n, composeCalls: n, apiCalls, recreated },
    speedupDaemon: naiveMs / daemonResult.ms.median,
    speedupOnce: naiveMs / once.ms.median,
  };
}

/** `treesRead` and `parsed` of a `source.fetch` line (null where absent). */
function readCounts(line: Record<string, unknown> | undefined): {
  treesRead: number | null;
  parsed: number | null;
} {
  const count = (v: unknown): number | null => (typeof v === 'number' ? v : null);
  return { treesRead: count(line?.['treesRead']), parsed: count(line?.['parsed']) };
}

/** Refresh sent (epoch ms) → the run record of `revision` finished, per GET /api/v1/runs; null if not yet. */
async function runFinished(d: Daemon, revision: string, sentAt: number): Promise<number | null> {
  const r = await d.get('/api/v1/runs');
  const { runs } = (await r.json()) as { runs: { revision: string | null; finishedAt: string | null }[] };
  const run = runs.find((x) => x.revision === revision);
  return run?.finishedAt == null ? null : Date.parse(run.finishedAt) - sentAt;
}

/** compose project → container id, for this run's containers. */
async function containerIds(b: Bench): Promise<Map<string, string>> {
  const list = await b.docker.listContainers({
    all: true,
    filters: { label: [`io.stackd.managed-by=${b.instance}`] },
  });
  return new Map(list.map((c) => [c.Labels['com.docker.compose.project'] ?? c.Id, c.Id]));
}
