/**
 * Scenario 3: restart. N synced stacks; SIGTERM the daemon, start it again, and time (from the
 * spawn) until every stack reports `synced` with its synced revision and compose hash; with the
 * state file kept, and with it deleted (rebuilt from labels and the runtime).
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Bench } from '../lib/context.js';
import { Daemon } from '../lib/stackd.js';
import { type Summary, pollUntil, sleep, summarize } from '../lib/util.js';
import { type Counts, allSynced, countSince, mark } from './common.js';

export type RestartVariant = 'state kept' | 'state deleted';

export interface RestartSample extends Counts {
  readonly variant: RestartVariant;
  /** SIGTERM → exit of the previous process. */
  readonly stopMs: number;
  readonly listenMs: number;
  readonly syncedMs: number;
  /** Statuses seen by the first successful poll: does the API ever show anything but synced? */
  readonly firstSeen: Record<string, number>;
}

export interface RestartResult {
  readonly n: number;
  readonly samples: readonly RestartSample[];
  readonly byVariant: Record<RestartVariant, { readonly syncedMs: Summary; readonly listenMs: Summary }>;
}

/** Restarts `d` repeatedly; returns the results and the daemon left running. */
export async function runRestart(
  b: Bench,
  first: Daemon,
  env: NodeJS.ProcessEnv,
  n: number,
  repeat: number,
  log: (s: string) => void,
): Promise<{ result: RestartResult; daemon: Daemon }> {
  let d = first;
  const head = await b.repo.head();
  await pollUntil(
    'all synced before restarts',
    async () => (allSynced(await d.stacks(), n, head) ? true : undefined),
    {
      intervalMs: b.settings.pollMs,
      timeoutMs: 120_000,
    },
  );
  await sleep(500);
  const samples: RestartSample[] = [];
  const variants: RestartVariant[] = ['state kept', 'state deleted'];
  for (const variant of variants) {
    log(`restart ×${repeat}, ${variant} (N=${n})`);
    for (let i = 0; i < repeat; i++) {
      const stop = await d.stop();
      if (stop.code !== 0) throw new Error(`stackd run exited ${stop.code} on SIGTERM`);
      if (variant === 'state deleted') await rm(join(b.dataDir, 'state.json'), { force: true });
      const m = await mark(b);
      d = new Daemon(env, b.settings.cpuProfDir);
      await d.waitListening();
      let firstSeen: Record<string, number> | undefined;
      const done = await pollUntil(
        `${n} stacks synced after restart`,
        async () => {
          const response = await d.stacks();
          if (firstSeen === undefined) {
            firstSeen = {};
            for (const s of response.stacks) firstSeen[s.status] = (firstSeen[s.status] ?? 0) + 1;
          }
          return allSynced(response, n, head) ? true : undefined;
        },
        { intervalMs: b.settings.pollMs, timeoutMs: 120_000 },
      );
      await sleep(500);
      samples.push({
        variant,
        stopMs: stop.ms,
        listenMs: (d.listenAt ?? Number.NaN) - d.spawnedAt,
        syncedMs: done.at - d.spawnedAt,
        firstSeen: firstSeen ?? {},
        ...(await countSince(b, m)),
      });
    }
  }
  const of = (v: RestartVariant): { syncedMs: Summary; listenMs: Summary } => ({
    syncedMs: summarize(samples.filter((s) => s.variant === v).map((s) => s.syncedMs)),
    listenMs: summarize(samples.filter((s) => s.variant === v).map((s) => s.listenMs)),
  });
  return {
    result: {
      n,
      samples,
      byVariant: { 'state kept': of('state kept'), 'state deleted': of('state deleted') },
    },
    daemon: d,
  };
}
