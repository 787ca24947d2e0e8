/**
 * Fault: 5,000 concurrent `/metrics` requests (a bounded loop in a separate process, one
 * connection each, on loopback) while a commit is applied. Before, every scrape listed every open
 * handle, so the burst cost 5,000 × 5,000 steps and stalled the daemon for minutes. Now: the
 * connections within the server's limit are answered and the rest refused at once, `/healthz`
 * keeps answering (its p99 during the burst is printed; the 100 ms target is checked by
 * `make bench`), and the apply takes about as long as one without the burst.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { BURST_SCRIPT } from '../helpers/scrape-burst.js';
import { type Daemon, startDaemon, waitForStack } from '../helpers/daemon.js';
import { Harness, composeFile } from '../helpers/stackd.js';
import { expectNoStackTrace, logText, refresh } from './fault-helpers.js';

const SCRAPES = 5000;

/** Fires `n` GETs of `url` at once, each on its own connection; prints `{ statuses: {…} }`. */

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

describe('fault: a burst of 5,000 concurrent scrapes', () => {
  let h: Harness;
  let d: Daemon | undefined;

  beforeAll(async () => {
    h = await Harness.create('scrapeburst');
    await h.commit({ 'web/compose.yaml': composeFile({ web: {} }) });
  });

  afterAll(async () => {
    await d?.stop().catch(() => undefined);
    await h.cleanup();
  });

  /** Commit a change to the one service, refresh, and time until it is synced at that commit. */
  const apply = async (daemon: Daemon, n: number): Promise<number> => {
    const rev = await h.commit({
      'web/compose.yaml': composeFile({ web: { extra: `labels: { n: "${n}" }` } }),
    });
    const started = performance.now();
    await refresh(daemon);
    await waitForStack(
      daemon,
      h.id('web'),
      `synced at ${rev}`,
      (s) => s.status === 'synced' && s.synced?.revision === rev,
      120_000,
    );
    return performance.now() - started;
  };

  it('scrapes are answered or refused at once, /healthz stays quick, the apply takes its usual time', async () => {
    d = await startDaemon(h, { STACKD_SOURCE_POLL_INTERVAL: '0', STACKD_LOG_LEVEL: 'info' });
    const daemon = d;
    await waitForStack(daemon, h.id('web'), 'synced', (s) => s.status === 'synced');
    const usual = await apply(daemon, 1);

    const latencies: number[] = [];
    let failures = 0;
    const probing = { on: true };
    const prober = (async () => {
      while (probing.on) {
        const started = performance.now();
        try {
          const r = await fetch(`${daemon.url}/healthz`, { signal: AbortSignal.timeout(30_000) });
          await r.arrayBuffer();
          if (r.status !== 200) failures++;
        } catch {
          failures++;
        }
        latencies.push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    const burst = execa('node', [
      '--input-type=module',
      '-e',
      BURST_SCRIPT,
      `${daemon.url}/metrics`,
      String(SCRAPES),
    ]);
    const [underLoad, scraped] = await Promise.all([apply(daemon, 2), burst]);
    probing.on = false;
    await prober;

    const statuses = JSON.parse(scraped.stdout) as Record<string, number>;
    const p99 = percentile(latencies, 99);
    console.log(
      `scrape burst: ${SCRAPES} concurrent /metrics → ${JSON.stringify(statuses)}; /healthz during it: ${latencies.length} probes, p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms; apply ${Math.round(usual)} ms alone, ${Math.round(underLoad)} ms during the burst`,
    );
    // Up to server's connection limit (512) at once are served, the surplus is refused at once.
    expect(Object.keys(statuses).sort()).toEqual(expect.arrayContaining(['200']));
    for (const status of Object.keys(statuses)) expect(['200', 'ECONNRESET', 'EPIPE']).toContain(status);
    expect(statuses['200']).toBeGreaterThanOrEqual(500);
    expect(failures).toBe(0);
    expect(latencies.length).toBeGreaterThan(10);
    // Loose bounds (the targets are in make bench): before the fix, p99 was over a minute and the
    // apply took 20 times its usual time.
    expect(p99).toBeLessThan(2_000);
    expect(underLoad).toBeLessThan(usual * 3 + 10_000);
    expect(await daemon.stop()).toBe(0);
    expectNoStackTrace(logText(daemon));
    d = undefined;
  });
});
