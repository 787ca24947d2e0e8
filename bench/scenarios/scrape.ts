/**
 * Scenario 6: a scrape burst. A daemon with one deployed stack; `BURST` concurrent `GET /metrics`
 * (one connection each, from a separate process) while `/healthz` is probed every 10 ms — over a
 * kept-alive connection (how Prometheus scrapes) and over a new connection each time (how a
 * liveness probe might) — and while one change is applied. Measured: /healthz latency during the
 * bursts, how many scrapes were answered or refused (the server takes 512 connections at once),
 * and the apply's time against the same apply without a burst.
 */
import { request } from 'node:http';
import { BURST_SCRIPT } from '../../test/helpers/scrape-burst.js';
import { join } from 'node:path';
import { createTestRepo, type TestRepo } from '../../test/helpers/git-repo.js';
import { type Bench, composeFile } from '../lib/context.js';
import { Daemon } from '../lib/stackd.js';
import { type Summary, pollUntil, runCommand, summarize } from '../lib/util.js';

export interface ScrapeResult {
  readonly burst: number;
  readonly rounds: number;
  /** /healthz during the bursts, ms. */
  readonly keepAlive: Summary & { readonly p99: number; readonly failures: number };
  readonly fresh: Summary & { readonly p99: number; readonly failures: number };
  /** Outcomes of the scrapes, summed over the rounds (`200`, `ECONNRESET`, …). */
  readonly scrapes: Record<string, number>;
  /** Commit + refresh → synced, ms: without a burst, and during one. */
  readonly applyAlone: Summary;
  readonly applyDuringBurst: Summary;
}

function p99(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(0.99 * sorted.length) - 1))] ?? Number.NaN;
}

/** One GET of `url` on a new connection (`fresh`) or the shared keep-alive agent; ms, or undefined on failure. */
function probe(url: string, fresh: boolean): Promise<number | undefined> {
  return new Promise((resolve) => {
    const started = performance.now();
    const req = request(url, fresh ? { agent: false } : {}, (res) => {
      res.resume();
      res.on('end', () => {
        resolve(res.statusCode === 200 ? performance.now() - started : undefined);
      });
    });
    req.setTimeout(30_000, () => req.destroy());
    req.on('error', () => {
      resolve(undefined);
    });
    req.end();
  });
}

export async function runScrape(
  b: Bench,
  burst: number,
  rounds: number,
  log: (s: string) => void,
): Promise<ScrapeResult> {
  const repo: TestRepo = await createTestRepo(b.root, 'scrape');
  const id = `${b.prefix}x/web`;
  const commit = (n: number): Promise<string> =>
    repo.commit({ [`${id}/compose.yaml`]: `${composeFile(1)}    labels: { n: "${n}" }\n` }, `change ${n}`);
  let n = 0;
  await commit(n);
  const d = new Daemon(
    b.env({
      STACKD_SOURCE_URL: b.git.url('scrape'),
      STACKD_INSTANCE: `${b.instance}-scrape`,
      STACKD_DATA_DIR: join(b.root, 'data-scrape'),
      STACKD_SCOPE_INCLUDE: `${b.prefix}x/**`,
    }),
    b.settings.cpuProfDir,
  );
  const apply = async (): Promise<number> => {
    const rev = await commit(++n);
    const started = performance.now();
    await d.post('/api/v1/refresh');
    await pollUntil(
      `${id} synced at ${rev}`,
      async () => {
        const s = await d.stack(id);
        return s?.status === 'synced' && s.synced?.revision === rev ? s : undefined;
      },
      { intervalMs: 50, timeoutMs: 120_000 },
    );
    return performance.now() - started;
  };
  try {
    const url = await d.waitListening();
    await pollUntil(
      'the stack synced',
      async () => ((await d.stack(id))?.status === 'synced' ? true : undefined),
      {
        intervalMs: 100,
        timeoutMs: 120_000,
      },
    );
    const alone: number[] = [];
    for (let i = 0; i < rounds; i++) alone.push(await apply());
    const keep: number[] = [];
    const fresh: number[] = [];
    let keepFailures = 0;
    let freshFailures = 0;
    const scrapes: Record<string, number> = {};
    const during: number[] = [];
    for (let i = 0; i < rounds; i++) {
      log(`scrape: round ${i + 1}/${rounds}, ${burst} concurrent /metrics during an apply`);
      const state = { on: true };
      const prober = async (isFresh: boolean): Promise<void> => {
        while (state.on) {
          const ms = await probe(`${url}/healthz`, isFresh);
          if (ms === undefined) {
            if (isFresh) freshFailures++;
            else keepFailures++;
          } else (isFresh ? fresh : keep).push(ms);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      };
      const probers = [prober(false), prober(true)];
      // Probed while the burst runs (the apply may outlast it).
      const burstRun = runCommand('node', [
        '--input-type=module',
        '-e',
        BURST_SCRIPT,
        `${url}/metrics`,
        String(burst),
      ]).finally(() => {
        state.on = false;
      });
      const [ms, out] = await Promise.all([apply(), burstRun]);
      await Promise.all(probers);
      during.push(ms);
      for (const [k, v] of Object.entries(JSON.parse(out.stdout) as Record<string, number>))
        scrapes[k] = (scrapes[k] ?? 0) + v;
    }
    return {
      burst,
      rounds,
      keepAlive: { ...summarize(keep), p99: Math.round(p99(keep) * 10) / 10, failures: keepFailures },
      fresh: { ...summarize(fresh), p99: Math.round(p99(fresh) * 10) / 10, failures: freshFailures },
      scrapes,
      applyAlone: summarize(alone),
      applyDuringBurst: summarize(during),
    };
  } finally {
    await d.stop();
  }
}
