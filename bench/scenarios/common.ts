/** What several scenarios share: deploying the first n stacks, and counting what a window cost. */
import type { StacksResponse } from '../../internal/status/index.js';
import { byVerb } from '../lib/compose-wrapper.js';
import type { Bench } from '../lib/context.js';
import { byEndpoint } from '../lib/docker-proxy.js';
import { syncOnce } from '../lib/stackd.js';

export interface DeployResult {
  readonly stacks: number;
  readonly ms: number;
}

/** Make sure the first `n` stacks are committed and deployed (by `stackd sync --once`). */
export async function ensureDeployed(
  b: Bench,
  n: number,
  log: (s: string) => void,
): Promise<DeployResult | null> {
  if (b.deployed >= n) return null;
  const from = b.deployed;
  const head = await b.addStacks(from, n);
  log(`deploying stacks ${from}..${n - 1} with stackd sync --once (setup, not measured)`);
  const r = await syncOnce(
    // Setup, not measured: no readiness wait per stack (hundreds of stacks × reconcile.minReady).
    b.env({ STACKD_SCOPE_INCLUDE: b.scope(n), STACKD_LOG_LEVEL: 'warn', STACKD_RECONCILE_MIN_READY: '0' }),
    b.settings.cpuProfDir,
  );
  if (r.exitCode !== 0 || r.response === undefined) {
    throw new Error(`deploying ${n} stacks failed (exit ${r.exitCode}):\n${r.stderr.slice(-4000)}`);
  }
  assertAllSynced(r.response, n, head);
  b.deployed = n;
  return { stacks: n - from, ms: r.ms };
}

/** Every one of `n` stacks synced at `revision`, else undefined (for polling) or a throw. */
export function allSynced(response: StacksResponse, n: number, revision: string): boolean {
  return (
    response.stacks.length === n &&
    response.stacks.every(
      (s) =>
        s.status === 'synced' &&
        s.synced?.revision === revision &&
        s.desired !== null &&
        s.synced.composeHash === s.desired.composeHash,
    )
  );
}

export function assertAllSynced(response: StacksResponse, n: number, revision: string): void {
  if (allSynced(response, n, revision)) return;
  const bad = response.stacks
    .filter((s) => s.status !== 'synced' || s.synced?.revision !== revision)
    .slice(0, 5)
    .map((s) => `${s.id}: ${s.status} ${s.message} synced=${s.synced?.revision ?? 'null'}`);
  throw new Error(
    `expected ${n} stacks synced at ${revision}, got ${response.stacks.length}; e.g.\n${bad.join('\n')}`,
  );
}

/** Positions in every counter, to count what happens after. */
export interface Marks {
  readonly stackdApi: number;
  readonly composeApi: number;
  readonly composeCalls: number;
  readonly git: number;
}

export interface Counts {
  /** Compose processes started (by verb). */
  readonly composeCalls: number;
  readonly composeByVerb: Record<string, number>;
  /** Docker API requests stackd made itself. */
  readonly stackdApiCalls: number;
  readonly stackdApiByEndpoint: Record<string, number>;
  /** Docker API requests made by the compose processes it ran. */
  readonly composeApiCalls: number;
  readonly gitRequests: number;
  readonly gitBytes: number;
  readonly gitByPath: Record<string, number>;
}

export async function mark(b: Bench): Promise<Marks> {
  return {
    stackdApi: b.stackdProxy.mark(),
    composeApi: b.composeProxy.mark(),
    composeCalls: (await b.compose.calls()).length,
    git: b.git.requests.length,
  };
}

export async function countSince(b: Bench, m: Marks): Promise<Counts> {
  const calls = (await b.compose.calls()).slice(m.composeCalls);
  const api = b.stackdProxy.since(m.stackdApi);
  const git = b.git.requests.slice(m.git);
  const gitByPath: Record<string, number> = {};
  for (const r of git) {
    const key = `${r.method} ${r.path.replace(/^.*\.git/, '')}`;
    gitByPath[key] = (gitByPath[key] ?? 0) + 1;
  }
  return {
    composeCalls: calls.length,
    composeByVerb: byVerb(calls),
    stackdApiCalls: api.length,
    stackdApiByEndpoint: byEndpoint(api),
    composeApiCalls: b.composeProxy.since(m.composeApi).length,
    gitRequests: git.length,
    gitBytes: git.reduce((sum, r) => sum + r.bytesOut, 0),
    gitByPath,
  };
}
