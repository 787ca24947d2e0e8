/**
 * Scenario 2: change latency. A commit changes one service's image in one stack, a signed GitHub
 * push webhook is delivered, and the time until that stack is `synced` at the new revision is
 * taken; against `docker compose up -d` run by hand for the same change on a project of its
 * own. Images alternate 1 ↔ 2.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { githubPush } from '../../test/helpers/daemon.js';
import { BENCH_LABEL, BENCH_MIN_READY_MS, type Bench, composeFile } from '../lib/context.js';
import type { ComposeCall } from '../lib/compose-wrapper.js';
import type { Daemon, LogLine } from '../lib/stackd.js';
import { type Summary, pollUntil, runCommand, sleep, summarize } from '../lib/util.js';
import { type Counts, countSince, mark } from './common.js';

export const WEBHOOK_SECRET = 'stackd-bench-webhook-secret';

/** Where the stackd latency went, ms from the webhook being sent (log lines as read by the bench). */
export interface Breakdown {
  /** Webhook sent → the fetch of the new commit logged (includes fetch and snapshot). */
  readonly fetch: number | null;
  /** → reconcile.start of the stack. */
  readonly queue: number | null;
  /** → compose `config -q` started (materialize, override file). */
  readonly prepare: number | null;
  /** `config -q` itself. */
  readonly validate: number | null;
  /** `up -d` itself. */
  readonly up: number | null;
  /** `up` ended → reconcile.success logged (readiness wait, re-list, state). */
  readonly readiness: number | null;
  /** reconcile.success → seen `synced` through the API. */
  readonly visible: number | null;
}

export interface ChangeSample extends Counts {
  readonly image: 1 | 2;
  readonly stackdMs: number;
  readonly composeMs: number;
  readonly breakdown: Breakdown;
}

export interface ChangeResult {
  readonly n: number;
  readonly samples: readonly ChangeSample[];
  readonly stackd: Summary;
  readonly compose: Summary;
  /** `reconcile.minReady`: the readiness wait every apply includes on purpose. */
  readonly minReadyMs: number;
  /** stackd median − compose median, and p90s (the readiness wait included). */
  readonly overheadMedianMs: number;
  readonly overheadP90Ms: number;
  readonly breakdownMedian: Record<keyof Breakdown, number>;
}

export async function runChange(
  b: Bench,
  d: Daemon,
  n: number,
  repeat: number,
  log: (s: string) => void,
): Promise<ChangeResult> {
  const id = b.stackId(0);
  const rawDir = join(b.root, 'raw');
  const rawProject = `${b.prefix}_raw`;
  await mkdir(rawDir, { recursive: true });
  const rawUp = async (image: 1 | 2): Promise<number> => {
    const yaml = composeFile(image) + `    labels:\n      ${BENCH_LABEL}: ${b.instance}\n`;
    await writeFile(join(rawDir, 'compose.yaml'), yaml);
    const r = await runCommand('docker', ['compose', '-p', rawProject, 'up', '-d'], { cwd: rawDir });
    if (r.code !== 0) throw new Error(`raw docker compose up -d failed: ${r.stderr}`);
    return r.ms;
  };
  await rawUp(1);

  log(`change latency ×${repeat} (N=${n} stacks in the daemon)`);
  const samples: ChangeSample[] = [];
  let image: 1 | 2 = 1;
  for (let i = 0; i < repeat; i++) {
    image = image === 1 ? 2 : 1;
    const rev = await b.repo.commit({ [`${id}/compose.yaml`]: composeFile(image) }, `image ${image}`);
    await sleep(200);
    const m = await mark(b);
    const logIndex = d.logs.length;
    const sentAt = Date.now();
    const t0 = performance.now();
    const answer = await githubPush(d.url ?? '', WEBHOOK_SECRET, 'refs/heads/main');
    if (answer.status !== 202) throw new Error(`webhook answered ${answer.status}`);
    const done = await pollUntil(
      `${id} synced at ${rev}`,
      async () => {
        const s = await d.stack(id);
        return s?.status === 'synced' && s.synced?.revision === rev ? true : undefined;
      },
      { intervalMs: b.settings.pollMs, timeoutMs: 120_000 },
    );
    const stackdMs = done.at - t0;
    const seenAt = sentAt + stackdMs;
    await sleep(300);
    const counts = await countSince(b, m);
    const calls = (await b.compose.calls()).slice(m.composeCalls);
    const breakdown = breakdownOf(d.logs.slice(logIndex), calls, id, rev, sentAt, seenAt);
    await sleep(200);
    const composeMs = await rawUp(image);
    samples.push({ image, stackdMs, composeMs, breakdown, ...counts });
    await sleep(200);
  }
  const stackd = summarize(samples.map((s) => s.stackdMs));
  const compose = summarize(samples.map((s) => s.composeMs));
  const keys: (keyof Breakdown)[] = ['fetch', 'queue', 'prepare', 'validate', 'up', 'readiness', 'visible'];
  const breakdownMedian = Object.fromEntries(
    keys.map((k) => [
      k,
      summarize(samples.map((s) => s.breakdown[k]).filter((v): v is number => v !== null)).median,
    ]),
  ) as Record<keyof Breakdown, number>;
  return {
    n,
    samples,
    stackd,
    compose,
    minReadyMs: BENCH_MIN_READY_MS,
    overheadMedianMs: stackd.median - compose.median,
    overheadP90Ms: stackd.p90 - compose.p90,
    breakdownMedian,
  };
}

function breakdownOf(
  logs: readonly LogLine[],
  calls: readonly ComposeCall[],
  id: string,
  rev: string,
  sentAt: number,
  seenAt: number,
): Breakdown {
  const at = (predicate: (l: Readonly<Record<string, unknown>>) => boolean): number | undefined =>
    logs.find((l) => predicate(l.line))?.at;
  const fetched = at((l) => l['event'] === 'source.fetch' && l['revision'] === rev);
  const start = at((l) => l['event'] === 'reconcile.start' && l['stack'] === id);
  const success = at((l) => l['event'] === 'reconcile.success' && l['stack'] === id);
  const config = calls.find((c) => c.verb === 'config');
  const up = calls.find((c) => c.verb === 'up');
  const diff = (a: number | undefined, z: number | undefined): number | null =>
    a === undefined || z === undefined ? null : z - a;
  return {
    fetch: diff(sentAt, fetched),
    queue: diff(fetched, start),
    prepare: diff(start, config?.start),
    validate: diff(config?.start, config?.end),
    up: diff(up?.start, up?.end),
    readiness: diff(up?.end, success),
    visible: diff(success, seenAt),
  };
}
