/**
 * Scenario 5: what a refresh costs the Git server. POST /api/v1/refresh when nothing changed
 * (target: one ref discovery), and after a one-file commit (README.md; one stack's compose file),
 * counted by the loopback Git server (requests, response bytes).
 */
import type { TestRepo } from '../../test/helpers/git-repo.js';
import type { GitRequest, GitServer } from '../../test/helpers/git-server.js';
import { composeFile } from '../lib/context.js';
import type { Daemon } from '../lib/stackd.js';
import { pollUntil, sleep } from '../lib/util.js';

export type GitCase = 'no change' | 'README.md commit' | 'one compose file commit';

export interface GitSample {
  readonly case: GitCase;
  readonly requests: number;
  readonly bytes: number;
  /** POST refresh → changed: the fetch logged; unchanged: stackd_source_fetch_total moved (100 ms steps). */
  readonly ms: number;
  readonly detail: readonly {
    method: string;
    path: string;
    query: string;
    status: number;
    bytesOut: number;
  }[];
}

export interface GitResult {
  /** Stacks in the repository. */
  readonly stacks: number;
  readonly samples: readonly GitSample[];
}

export async function runGit(
  server: GitServer,
  d: Daemon,
  repo: TestRepo,
  prefix: string,
  stacks: number,
  repeat: number,
  log: (s: string) => void,
): Promise<GitResult> {
  log(`git: requests and bytes per refresh (${stacks} stacks in the repo)`);
  const samples: GitSample[] = [];
  // Completion: a changed fetch is logged (`source.fetch`, result changed) — watched in the log,
  // no HTTP polling; an unchanged one only moves stackd_source_fetch_total, scraped every 100 ms
  // (a scrape of 500 stacks' metrics is not free: polling it faster would load the daemon).
  const refresh = async (kind: GitCase, expected: string, changed: boolean): Promise<void> => {
    await sleep(300);
    const before = await d.metric('stackd_source_fetch_total');
    const markAt = server.requests.length;
    const logIndex = d.logs.length;
    const sentAt = Date.now();
    const t0 = performance.now();
    const answer = await d.post('/api/v1/refresh');
    if (answer.status !== 202) throw new Error(`POST /api/v1/refresh: ${answer.status}`);
    let ms: number;
    if (changed) {
      const line = await pollUntil(
        `the fetch of ${expected} logged`,
        () =>
          Promise.resolve(
            d.logs
              .slice(logIndex)
              .find((l) => l.line['event'] === 'source.fetch' && l.line['revision'] === expected),
          ),
        { intervalMs: 5, timeoutMs: 60_000 },
      );
      ms = line.value.at - sentAt;
    } else {
      const done = await pollUntil(
        'the refresh to be counted',
        async () => ((await d.metric('stackd_source_fetch_total')) > before ? true : undefined),
        { intervalMs: 100, timeoutMs: 60_000 },
      );
      ms = done.at - t0;
    }
    await sleep(500);
    const requests: GitRequest[] = server.requests.slice(markAt);
    samples.push({
      case: kind,
      requests: requests.length,
      bytes: requests.reduce((sum, r) => sum + r.bytesOut, 0),
      ms,
      detail: requests.map((r) => ({
        method: r.method,
        path: r.path.replace(/^.*\.git/, ''),
        query: r.query,
        status: r.status,
        bytesOut: r.bytesOut,
      })),
    });
  };
  const head = await repo.head();
  for (let i = 0; i < repeat; i++) await refresh('no change', head, false);
  for (let i = 0; i < repeat; i++) {
    const rev = await repo.commit({ 'README.md': `memory benchmark ${i} ${Date.now()}\n` }, `readme ${i}`);
    await refresh('README.md commit', rev, true);
  }
  for (let i = 0; i < repeat; i++) {
    const rev = await repo.commit(
      { [`${prefix}/s000/compose.yaml`]: composeFile(i % 2 === 0 ? 2 : 1) },
      `compose change ${i}`,
    );
    await refresh('one compose file commit', rev, true);
  }
  return { stacks, samples };
}
