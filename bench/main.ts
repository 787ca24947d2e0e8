/**
 * stackd's benchmarks (`make bench`): every scenario measured side by side in one run on this
 * machine against the real Docker engine, compose and a loopback Git server. Prints a table and
 * writes bench/results/<timestamp>.json and bench/results/latest.json. Nothing here asserts a
 * time: targets are reported as met or missed, the exit code only says whether the run worked.
 *
 * Sizes and repetitions come from the environment; see bench/README.md.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { Bench } from './lib/context.js';
import { summarizeProfiles } from './lib/profile.js';
import { CLI, Daemon, ROOT, children } from './lib/stackd.js';
import { machineLoad, runCommand, sleep } from './lib/util.js';
import { WEBHOOK_SECRET, runChange, type ChangeResult } from './scenarios/change.js';
import { allSynced, ensureDeployed } from './scenarios/common.js';
import { runGit, type GitResult } from './scenarios/git.js';
import { runMemory, type MemoryResult } from './scenarios/memory.js';
import { runNoop, type NoopResult } from './scenarios/noop.js';
import { runRestart, type RestartResult } from './scenarios/restart.js';
import { runScrape, type ScrapeResult } from './scenarios/scrape.js';
import { type Target, evaluateTargets, printReport } from './report.js';

const SCENARIOS = ['noop', 'change', 'restart', 'memory', 'git', 'scrape'] as const;
type Scenario = (typeof SCENARIOS)[number];

export interface BenchConfig {
  readonly sizes: readonly number[];
  readonly repeat: number;
  /** The naive loop runs at N up to this (it is linear and long). */
  readonly naiveMaxN: number;
  readonly changeRepeat: number;
  readonly restartN: number;
  readonly restartRepeat: number;
  readonly memoryN: number;
  readonly gitRepeat: number;
  readonly pollMs: number;
  readonly scrapeBurst: number;
  readonly scrapeRounds: number;
  readonly scenarios: readonly Scenario[];
  readonly cpuProf: boolean;
  readonly keep: boolean;
}

function intList(name: string, fallback: readonly number[]): number[] {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return [...fallback];
  const values = raw.split(',').map((s) => Number.parseInt(s.trim(), 10));
  if (values.some((v) => !Number.isInteger(v) || v < 1)) {
    throw new Error(`${name} must be a comma list of positive integers, got ${JSON.stringify(raw)}`);
  }
  return [...new Set(values)].sort((a, b) => a - b);
}

function int(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number.parseInt(raw, 10);
  if (!Number.isInteger(value) || value < min)
    throw new Error(`${name} must be an integer ≥ ${min}, got ${raw}`);
  return value;
}

function flag(name: string): boolean {
  return ['1', 'true', 'yes'].includes((process.env[name] ?? '').toLowerCase());
}

export function configFromEnv(): BenchConfig {
  const scenarios = (process.env['BENCH_SCENARIOS'] ?? SCENARIOS.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const s of scenarios) {
    if (!(SCENARIOS as readonly string[]).includes(s)) {
      throw new Error(
        `BENCH_SCENARIOS: unknown scenario ${JSON.stringify(s)} (known: ${SCENARIOS.join(', ')})`,
      );
    }
  }
  if (scenarios.includes('git') && !scenarios.includes('memory')) scenarios.push('memory'); // git runs in its daemon
  return {
    sizes: intList('BENCH_SIZES', [20, 100, 1000]),
    repeat: int('BENCH_REPEAT', 3),
    naiveMaxN: int('BENCH_NAIVE_MAX_N', 200),
    changeRepeat: int('BENCH_CHANGE_REPEAT', 6),
    restartN: int('BENCH_RESTART_N', 1000),
    restartRepeat: int('BENCH_RESTART_REPEAT', 2),
    memoryN: int('BENCH_MEMORY_N', 1000),
    gitRepeat: int('BENCH_GIT_REPEAT', 2),
    pollMs: int('BENCH_POLL_MS', 20),
    scrapeBurst: int('BENCH_SCRAPE_BURST', 5000),
    scrapeRounds: int('BENCH_SCRAPE_ROUNDS', 3),
    scenarios: scenarios as Scenario[],
    cpuProf: flag('BENCH_CPU_PROF'),
    keep: flag('BENCH_KEEP'),
  };
}

export interface Results {
  readonly startedAt: string;
  readonly durationS: number;
  readonly machine: Record<string, string | number>;
  readonly config: BenchConfig;
  readonly runId: string;
  readonly noop: NoopResult[];
  readonly change: ChangeResult | null;
  readonly restart: RestartResult | null;
  readonly memory: MemoryResult | null;
  readonly git: GitResult | null;
  readonly scrape: ScrapeResult | null;
  readonly targets: readonly Target[];
  readonly cleanup: { containers: number; networks: number } | null;
  readonly cpuProfiles: string | null;
  readonly load: readonly LoadWindow[];
}

export interface LoadWindow {
  readonly scenario: string;
  readonly load1Start: number;
  readonly load1End: number;
  /** Whole machine, bench and stackd included. */
  readonly cpuBusyPct: number;
}

async function versionOf(file: string, args: readonly string[]): Promise<string> {
  const r = await runCommand(file, args).catch(() => undefined);
  return r?.code === 0 ? (r.stdout.trim().split('\n')[0] ?? '') : 'unavailable';
}

async function preflight(): Promise<Record<string, string | number>> {
  const docker = await runCommand('docker', ['version', '--format', '{{.Server.Version}}']);
  if (docker.code !== 0) {
    throw new Error(`the Docker engine does not answer (run \`make test-env\`): ${docker.stderr.trim()}`);
  }
  for (const image of ['stackd-test/busybox:1', 'stackd-test/busybox:2']) {
    const r = await runCommand('docker', ['image', 'inspect', image]);
    if (r.code !== 0) throw new Error(`test image ${image} is missing: run \`make test-env\``);
  }
  const stackd = await runCommand('node', [CLI, 'version']);
  if (stackd.code !== 0)
    throw new Error(`${CLI} does not run: build first (\`make build\`): ${stackd.stderr}`);
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? '',
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    docker: docker.stdout.trim(),
    compose: await versionOf('docker', ['compose', 'version', '--short']),
    git: await versionOf('git', ['--version']),
    stackd: stackd.stdout.trim(),
    commit: await versionOf('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']),
    uncommittedChanges: (
      await runCommand('git', ['-C', ROOT, 'status', '--porcelain', '--untracked-files=no'])
    ).stdout
      .split('\n')
      .filter((l) => l.trim() !== '').length,
  };
}

export async function main(): Promise<number> {
  const config = configFromEnv();
  const started = new Date();
  const t0 = performance.now();
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  const resultsDir = join(ROOT, 'bench', 'results');
  await mkdir(resultsDir, { recursive: true });
  const cpuProfDir = config.cpuProf ? join(resultsDir, `cpu-${stamp}`) : undefined;
  if (cpuProfDir !== undefined) await mkdir(cpuProfDir, { recursive: true });
  const log = (s: string): void => {
    const elapsed = ((performance.now() - t0) / 1000).toFixed(0).padStart(4);
    process.stderr.write(`[bench ${elapsed}s] ${s}\n`);
  };

  const machine = await preflight();
  const idle = await machineLoad();
  machine['load1AtStart'] = idle.load1;
  if (idle.load1 > cpus().length / 2) {
    log(
      `warning: load average ${idle.load1} on ${cpus().length} CPUs before starting: other work on this machine will inflate the numbers`,
    );
  }
  const wants = (s: Scenario): boolean => config.scenarios.includes(s);
  const needsDeploy = wants('noop') || wants('change') || wants('restart');
  const boundaries = [
    ...(wants('noop') ? config.sizes : []),
    ...(wants('change') || wants('restart') ? [config.restartN] : []),
  ];
  const b = await Bench.create(
    { cpuProfDir, pollMs: config.pollMs },
    boundaries.length > 0 ? boundaries : [1],
  );
  log(
    `run ${b.runId}: instance ${b.instance}, temp ${b.root}; sizes ${config.sizes.join(',')}, scenarios ${config.scenarios.join(',')}`,
  );

  let cleaned: { containers: number; networks: number } | null = null;
  let cleaning: Promise<void> | undefined;
  const cleanup = (): Promise<void> => {
    cleaning ??= (async () => {
      for (const child of children) child.kill('SIGTERM');
      for (let i = 0; i < 100 && children.size > 0; i++) await sleep(100);
      for (const child of children) child.kill('SIGKILL');
      log('cleaning up containers, networks, processes and temp files');
      cleaned = await b.cleanup(config.keep);
      log(`removed ${cleaned.containers} containers and ${cleaned.networks} networks`);
    })();
    return cleaning;
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    log(`${signal}: stopping`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  /** Machine load per scenario: other work on the machine inflates every number. */
  const load: LoadWindow[] = [];
  const measured = async <T>(scenario: string, run: () => Promise<T>): Promise<T> => {
    const before = await machineLoad();
    const value = await run();
    const after = await machineLoad();
    load.push({
      scenario,
      load1Start: before.load1,
      load1End: after.load1,
      cpuBusyPct: Math.round((100 * (after.busy - before.busy)) / Math.max(1, after.total - before.total)),
    });
    return value;
  };
  const noop: NoopResult[] = [];
  let change: ChangeResult | null = null;
  let restart: RestartResult | null = null;
  let memory: MemoryResult | null = null;
  let git: GitResult | null = null;
  let scrape: ScrapeResult | null = null;
  try {
    await b.touchReadme('initial');
    if (wants('noop')) {
      for (const n of config.sizes)
        noop.push(await measured(`noop N=${n}`, () => runNoop(b, n, config.repeat, config.naiveMaxN, log)));
    }
    if (needsDeploy && (wants('change') || wants('restart'))) {
      const n = config.restartN;
      await ensureDeployed(b, n, log);
      const env = b.env({ STACKD_SCOPE_INCLUDE: b.scope(n), STACKD_WEBHOOK_SECRET: WEBHOOK_SECRET });
      let d = new Daemon(env, cpuProfDir);
      try {
        await d.waitListening();
        const head = await b.repo.head();
        const deadline = performance.now() + 120_000;
        while (!allSynced(await d.stacks(), n, head)) {
          if (performance.now() > deadline) throw new Error(`${n} stacks not synced after start`);
          await sleep(100);
        }
        if (wants('change')) {
          const daemon = d;
          change = await measured('change', () => runChange(b, daemon, n, config.changeRepeat, log));
        }
        if (wants('restart')) {
          const daemon = d;
          const r = await measured('restart', () => runRestart(b, daemon, env, n, config.restartRepeat, log));
          restart = r.result;
          d = r.daemon;
        }
      } finally {
        await d.stop();
      }
    }
    if (wants('memory')) {
      // Without the deployed stacks around: the daemon observes only what it would at rest.
      if (needsDeploy) {
        log('removing the deployed stacks before the memory scenario');
        await b.removeDeployed();
      }
      const mem = await measured('memory', () => runMemory(b, config.memoryN, log));
      memory = mem.result;
      try {
        if (wants('git')) {
          git = await measured('git', () =>
            runGit(b.git, mem.daemon, mem.repo, mem.prefix, config.memoryN, config.gitRepeat, log),
          );
        }
      } finally {
        await mem.daemon.stop();
      }
    }
    if (wants('scrape')) {
      scrape = await measured('scrape', () => runScrape(b, config.scrapeBurst, config.scrapeRounds, log));
    }
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await cleanup();
  }

  const durationS = Math.round(performance.now() - t0) / 1000;
  const partial = { noop, change, restart, memory, git, scrape, config };
  const results: Results = {
    startedAt: started.toISOString(),
    durationS,
    machine,
    config,
    runId: b.runId,
    noop,
    change,
    restart,
    memory,
    git,
    scrape,
    targets: evaluateTargets(partial),
    cleanup: cleaned,
    cpuProfiles: cpuProfDir ?? null,
    load,
  };
  if (cpuProfDir !== undefined) log(`CPU profile summaries: ${await summarizeProfiles(cpuProfDir)}`);
  const json = `${JSON.stringify(results, null, 2)}\n`;
  await writeFile(join(resultsDir, `${stamp}.json`), json);
  await writeFile(join(resultsDir, 'latest.json'), json);
  process.stdout.write(printReport(results));
  process.stdout.write(`\nwritten: bench/results/${stamp}.json and bench/results/latest.json\n`);
  return 0;
}
