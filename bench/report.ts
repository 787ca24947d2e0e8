/** Targets (met or missed, never asserted) and the printed report. */
import type { BenchConfig, Results } from './main.js';
import type { ChangeResult } from './scenarios/change.js';
import type { GitResult } from './scenarios/git.js';
import type { MemoryResult } from './scenarios/memory.js';
import type { NoopResult } from './scenarios/noop.js';
import type { RestartResult } from './scenarios/restart.js';
import type { ScrapeResult } from './scenarios/scrape.js';
import { fmt, fmtBytes, summarize, table } from './lib/util.js';

export interface Target {
  readonly name: string;
  readonly target: string;
  readonly value: string;
  readonly met: boolean;
}

interface Partial {
  readonly noop: readonly NoopResult[];
  readonly change: ChangeResult | null;
  readonly restart: RestartResult | null;
  readonly memory: MemoryResult | null;
  readonly git: GitResult | null;
  readonly scrape: ScrapeResult | null;
  readonly config: BenchConfig;
}

const median = (values: readonly number[]): number => summarize(values).median;

export function evaluateTargets(r: Partial): Target[] {
  const targets: Target[] = [];
  if (r.noop.length > 0) {
    const compose = r.noop.map((x) => Math.max(...x.daemon.passes.map((p) => p.composeCalls)));
    targets.push({
      name: 'no-op pass: compose invocations (daemon)',
      target: '0 at every N',
      value: r.noop.map((x, i) => `N=${x.n}: ${compose[i] ?? '?'}`).join(', '),
      met: compose.every((c) => c === 0),
    });
    const api = r.noop.map((x) =>
      Math.max(...x.daemon.passes.map((p) => p.stackdApiCalls + p.composeApiCalls)),
    );
    targets.push({
      name: 'no-op pass: Docker API calls (daemon)',
      target: '0 at every N',
      value: r.noop.map((x, i) => `N=${x.n}: ${api[i] ?? '?'}`).join(', '),
      met: api.every((c) => c === 0),
    });
    for (const [n, limit] of [
      [100, 60],
      [1000, 120],
    ] as const) {
      const x = r.noop.find((y) => y.n === n);
      if (x === undefined) continue;
      targets.push({
        name: `no-op pass: daemon pass at N=${n} (median)`,
        target: `≤ ${limit} ms`,
        value: `${fmt(x.daemon.ms.median)} ms (quiet ${fmt(x.daemon.quietMs.median)} ms; build read ${median(x.daemon.passes.map((p) => p.treesRead ?? Number.NaN))} trees, parsed ${median(x.daemon.passes.map((p) => p.parsed ?? Number.NaN))})`,
        met: x.daemon.ms.median <= limit,
      });
    }
    const at100 = r.noop.find((x) => x.n === 100 && x.naive !== null);
    if (at100?.naive != null && at100.speedupDaemon !== null) {
      targets.push({
        name: 'no-op pass: naive loop / daemon pass at N=100',
        target: '≥ 200×',
        value: `${fmt(at100.speedupDaemon)}× (${fmt(at100.naive.ms)} ms / ${fmt(at100.daemon.ms.median)} ms)`,
        met: at100.speedupDaemon >= 200,
      });
    }
    const largest = r.noop[r.noop.length - 1];
    if (largest !== undefined) {
      const one = largest.daemon.oneStack;
      targets.push({
        name: `one stack changed at N=${largest.n}: stacks parsed`,
        target: '1',
        value: `${one.parsed ?? '?'} (${one.treesRead ?? '?'} trees read; synced in ${fmt(one.ms)} ms)`,
        met: one.parsed === 1,
      });
    }
    const at1000 = r.noop.find((x) => x.n === 1000);
    if (at1000 !== undefined) {
      const mib = at1000.daemon.rssKb / 1024;
      targets.push({
        name: 'memory: VmRSS at rest, 1000 stacks deployed and synced',
        target: '≤ 150 MiB',
        value: `${fmt(mib)} MiB`,
        met: mib <= 150,
      });
      targets.push({
        name: 'GET /api/v1/stacks at 1000 stacks (median)',
        target: '≤ 20 ms',
        value: `${fmt(at1000.daemon.getStacksMs.median)} ms (p90 ${fmt(at1000.daemon.getStacksMs.p90)})`,
        met: at1000.daemon.getStacksMs.median <= 20,
      });
    }
  }
  if (r.change !== null) {
    targets.push({
      name: 'change latency: stackd overhead over raw compose beyond reconcile.minReady (median)',
      target: '≤ 1000 ms',
      value: `${fmt(r.change.overheadMedianMs - r.change.minReadyMs)} ms (stackd ${fmt(r.change.stackd.median)} − compose ${fmt(r.change.compose.median)} − minReady ${fmt(r.change.minReadyMs)}; readiness wait ${fmt(r.change.breakdownMedian.readiness)})`,
      met: r.change.overheadMedianMs - r.change.minReadyMs <= 1000,
    });
  }
  if (r.restart !== null) {
    for (const [variant, s] of Object.entries(r.restart.byVariant)) {
      const limit = variant === 'state kept' ? 2000 : 4000;
      targets.push({
        name: `restart N=${r.restart.n}, ${variant}: spawn → all synced with revision and hash (median)`,
        target: `≤ ${limit} ms`,
        value: `${fmt(s.syncedMs.median)} ms (max ${fmt(s.syncedMs.max)})`,
        met: s.syncedMs.median <= limit,
      });
    }
  }
  if (r.memory !== null) {
    const mib = r.memory.rssKb / 1024;
    targets.push({
      name: `memory: VmRSS at rest, ${r.memory.n} stacks`,
      target: '≤ 150 MiB',
      value: `${fmt(mib)} MiB`,
      met: mib <= 150,
    });
  }
  if (r.git !== null) {
    const noChange = r.git.samples.filter((s) => s.case === 'no change');
    const reqs = Math.max(...noChange.map((s) => s.requests));
    targets.push({
      name: 'git: requests per refresh with nothing changed',
      target: '1 (one ref discovery)',
      value: noChange
        .map((s) => `${s.requests} (${s.detail.map((d) => `${d.method} ${d.path}`).join(', ')})`)
        .join('; '),
      met: reqs === 1 && noChange.every((s) => s.detail[0]?.path === '/info/refs'),
    });
  }
  if (r.scrape !== null) {
    const s = r.scrape;
    targets.push({
      name: `scrape burst: /healthz p99 during ${s.burst} concurrent /metrics (kept-alive probe)`,
      target: '≤ 100 ms, no failure',
      value: `${fmt(s.keepAlive.p99)} ms (${s.keepAlive.n} probes, ${s.keepAlive.failures} failed; new-connection probes: p99 ${fmt(s.fresh.p99)} ms, ${s.fresh.failures} of ${s.fresh.n + s.fresh.failures} refused)`,
      met: s.keepAlive.p99 <= 100 && s.keepAlive.failures === 0,
    });
    targets.push({
      name: 'scrape burst: an apply during it vs alone (median)',
      target: '≤ alone + 1000 ms',
      value: `${fmt(s.applyDuringBurst.median)} ms vs ${fmt(s.applyAlone.median)} ms`,
      met: s.applyDuringBurst.median <= s.applyAlone.median + 1000,
    });
  }
  return targets;
}

export function printReport(r: Results): string {
  const out: string[] = [];
  const m = r.machine;
  out.push(
    '',
    `stackd benchmarks — ${String(m['stackd'])}, ${String(m['cpus'])} CPUs (${String(m['cpuModel'])}), node ${String(m['node'])}, Docker ${String(m['docker'])}, compose ${String(m['compose'])}`,
    `commit ${String(m['commit'])} (+${String(m['uncommittedChanges'])} changed files), run ${r.runId} at ${r.startedAt}, ${fmt(r.durationS)} s; API polled every ${r.config.pollMs} ms`,
  );

  if (r.noop.length > 0) {
    out.push(
      '',
      '1. No-op pass over N in-sync stacks (commit touching README.md only); times in ms',
      '   daemon pass: POST refresh → every stack synced at the new head, seen by polling GET /api/v1/stacks;',
      "   quiet: nobody polling, end = finishedAt of the daemon's run record; counts are per pass (medians)",
    );
    out.push(
      table(
        [
          'N',
          'daemon pass',
          'p90',
          'per stack µs',
          'quiet',
          'trees read',
          'parsed',
          'fetch',
          'compose',
          'API stackd',
          'API compose',
          'git req',
          'git bytes',
          'state writes',
          'state.json',
          'sync --once',
          'compose',
          'API',
          'naive loop',
          'per stack',
          'API',
          'naive/daemon',
          'naive/once',
        ],
        r.noop.map((x) => {
          const d = x.daemon.passes;
          const o = x.once.runs;
          return [
            String(x.n),
            fmt(x.daemon.ms.median),
            fmt(x.daemon.ms.p90),
            fmt((1000 * x.daemon.ms.median) / x.n),
            fmt(x.daemon.quietMs.median),
            String(median(d.map((p) => p.treesRead ?? Number.NaN))),
            String(median(d.map((p) => p.parsed ?? Number.NaN))),
            fmt(median(d.map((p) => p.fetchMs ?? Number.NaN).filter((v) => !Number.isNaN(v)))),
            String(median(d.map((p) => p.composeCalls))),
            String(median(d.map((p) => p.stackdApiCalls))),
            String(median(d.map((p) => p.composeApiCalls))),
            String(median(d.map((p) => p.gitRequests))),
            fmtBytes(median(d.map((p) => p.gitBytes))),
            String(median(d.map((p) => p.stateWrites ?? Number.NaN))),
            `${fmtBytes(x.daemon.stateBytes)} (${x.daemon.runsRetained} runs)`,
            fmt(x.once.ms.median),
            String(median(o.map((p) => p.composeCalls))),
            String(median(o.map((p) => p.stackdApiCalls + p.composeApiCalls))),
            x.naive === null ? '–' : fmt(x.naive.ms),
            x.naive === null ? '–' : fmt(x.naive.perStackMs),
            x.naive === null ? '–' : String(x.naive.apiCalls),
            x.speedupDaemon === null ? '–' : `${fmt(x.speedupDaemon)}×`,
            x.speedupOnce === null ? '–' : `${fmt(x.speedupOnce)}×`,
          ];
        }),
      ),
    );
    out.push('', '   daemon at each N: startup and at rest');
    out.push(
      table(
        [
          'N',
          'spawn→listen',
          'spawn→all synced',
          'startup compose',
          'startup API',
          'RSS MiB',
          'GET /stacks ms',
          'SIGTERM→exit',
        ],
        r.noop.map((x) => [
          String(x.n),
          fmt(x.daemon.startupListenMs),
          fmt(x.daemon.startupSyncedMs),
          String(x.daemon.startup.composeCalls),
          String(x.daemon.startup.stackdApiCalls),
          fmt(x.daemon.rssKb / 1024),
          fmt(x.daemon.getStacksMs.median),
          fmt(x.daemon.stopMs),
        ]),
      ),
    );
    const first = r.noop[r.noop.length - 1]?.daemon.passes[0];
    if (first !== undefined) {
      out.push(
        `   Docker API calls of one daemon pass at the largest N: ${JSON.stringify(first.stackdApiByEndpoint)}`,
      );
    }
    for (const x of r.noop) {
      const o = x.daemon.oneStack;
      out.push(
        `   N=${x.n}, one stack changed (a file added to its directory): refresh → all synced ${fmt(o.ms)} ms, ` +
          `fetch ${fmt(o.fetchMs ?? Number.NaN)} ms, ${o.treesRead ?? '?'} trees read, ${o.parsed ?? '?'} stack parsed, compose ${JSON.stringify(o.composeByVerb)}`,
      );
    }
    const naiveRecreated = r.noop.reduce((sum, x) => sum + (x.naive?.recreated ?? 0), 0);
    out.push(
      `   naive loop (up to N=${r.config.naiveMaxN}) recreated ${naiveRecreated} containers (0: it was a no-op too)`,
    );
  }

  if (r.change !== null) {
    const c = r.change;
    out.push(
      '',
      `2. Change latency: one image change + signed webhook → synced (N=${c.n}, ${c.samples.length} runs), ms`,
    );
    out.push(
      table(
        ['', 'median', 'p90', 'min', 'max'],
        [
          [
            'stackd (webhook → synced)',
            fmt(c.stackd.median),
            fmt(c.stackd.p90),
            fmt(c.stackd.min),
            fmt(c.stackd.max),
          ],
          [
            'docker compose up -d',
            fmt(c.compose.median),
            fmt(c.compose.p90),
            fmt(c.compose.min),
            fmt(c.compose.max),
          ],
          ['overhead', fmt(c.overheadMedianMs), fmt(c.overheadP90Ms), '', ''],
        ],
      ),
    );
    const bd = c.breakdownMedian;
    out.push(
      `   stackd breakdown (medians): fetch ${fmt(bd.fetch)}, queue ${fmt(bd.queue)}, prepare ${fmt(bd.prepare)}, ` +
        `compose config -q ${fmt(bd.validate)}, compose up ${fmt(bd.up)}, readiness ${fmt(bd.readiness)}, visible ${fmt(bd.visible)}`,
    );
    const s0 = c.samples[0];
    if (s0 !== undefined) {
      out.push(
        `   per change: compose ${JSON.stringify(s0.composeByVerb)}, stackd API ${s0.stackdApiCalls}, compose API ${s0.composeApiCalls}, git ${s0.gitRequests} req ${fmtBytes(s0.gitBytes)}`,
      );
    }
  }

  if (r.restart !== null) {
    const x = r.restart;
    out.push('', `3. Restart with N=${x.n} synced stacks (SIGTERM, start again), ms from spawn`);
    out.push(
      table(
        ['variant', 'stop', 'spawn→listen', 'spawn→all synced', 'compose', 'API stackd', 'first poll saw'],
        x.samples.map((s) => [
          s.variant,
          fmt(s.stopMs),
          fmt(s.listenMs),
          fmt(s.syncedMs),
          JSON.stringify(s.composeByVerb),
          String(s.stackdApiCalls),
          JSON.stringify(s.firstSeen),
        ]),
      ),
    );
  }

  if (r.memory !== null) {
    const x = r.memory;
    out.push(
      '',
      `4. Memory: ${x.n} stacks in the snapshot, reconciliation paused, at rest: VmRSS ${fmt(x.rssKb / 1024)} MiB ` +
        `(peak VmHWM ${fmt(x.hwmKb / 1024)} MiB, V8 heap used ${fmt(x.heapUsedBytes / 1024 / 1024)} MiB); ` +
        `spawn → all listed ${fmt(x.readyMs)} ms; statuses ${JSON.stringify(x.statuses)}`,
      `   at this size: GET /api/v1/stacks ${fmt(x.getStacksMs.median)} ms, GET /metrics ${fmt(x.getMetricsMs.median)} ms ` +
        `(${fmtBytes(x.metricsBytes)}), state.json ${fmtBytes(x.stateBytes)}`,
    );
  }

  if (r.git !== null) {
    const g = r.git;
    out.push('', `5. Git per refresh (POST /api/v1/refresh; ${g.stacks} stacks in the repository)`);
    out.push(
      table(
        ['case', 'requests', 'bytes', 'ms', 'requests made'],
        g.samples.map((s) => [
          s.case,
          String(s.requests),
          fmtBytes(s.bytes),
          fmt(s.ms),
          s.detail
            .map(
              (d) =>
                `${d.method} ${d.path}${d.query ? `?${d.query}` : ''} ${d.status} ${fmtBytes(d.bytesOut)}`,
            )
            .join('; '),
        ]),
      ),
    );
  }

  if (r.scrape !== null) {
    const s = r.scrape;
    out.push(
      '',
      `6. Scrape burst: ${s.burst} concurrent GET /metrics (one connection each, separate process), ${s.rounds} rounds, each during an apply; /healthz probed every 10 ms`,
    );
    out.push(
      table(
        ['/healthz probe', 'probes', 'failed', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'],
        [
          [
            'kept-alive connection',
            String(s.keepAlive.n),
            String(s.keepAlive.failures),
            fmt(s.keepAlive.median),
            fmt(s.keepAlive.p90),
            fmt(s.keepAlive.p99),
            fmt(s.keepAlive.max),
          ],
          [
            'new connection each',
            String(s.fresh.n),
            String(s.fresh.failures),
            fmt(s.fresh.median),
            fmt(s.fresh.p90),
            fmt(s.fresh.p99),
            fmt(s.fresh.max),
          ],
        ],
      ),
      `   scrapes: ${Object.entries(s.scrapes)
        .map(([k, v]) => `${k} ${v}`)
        .join(
          ', ',
        )}; apply alone ${fmt(s.applyAlone.median)} ms (median of ${s.applyAlone.n}), during a burst ${fmt(s.applyDuringBurst.median)} ms (max ${fmt(s.applyDuringBurst.max)})`,
    );
  }

  out.push(
    '',
    `machine load (1-min load average at start → end, whole-machine CPU busy; ${String(m['cpus'])} CPUs, ` +
      `load ${String(m['load1AtStart'])} before the run): ` +
      r.load.map((l) => `${l.scenario} ${fmt(l.load1Start)}→${fmt(l.load1End)}, ${l.cpuBusyPct}%`).join('; '),
  );
  out.push('', 'Targets');
  out.push(
    table(
      ['', 'target', 'measured', ''],
      r.targets.map((t) => [t.name, t.target, t.value, t.met ? 'met' : 'MISSED']),
    ),
  );
  if (r.cleanup !== null) {
    out.push('', `cleanup: removed ${r.cleanup.containers} containers, ${r.cleanup.networks} networks`);
  }
  if (r.cpuProfiles !== null) out.push(`CPU profiles of every stackd process: ${r.cpuProfiles}`);
  return `${out.join('\n')}\n`;
}
