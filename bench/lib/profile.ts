/**
 * Summaries of the V8 CPU profiles written with BENCH_CPU_PROF=1: per profile, busy time, self
 * time by package or file, and inclusive time of stackd's own functions (dist/), so that a slow
 * scenario points at a place in the source.
 */
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const IDLE = new Set(['(idle)', '(program)']);

function where(frame: CallFrame): string {
  const url = frame.url.replace(/^file:\/\//, '');
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg !== undefined) return pkg;
  const dist = /\/dist\/(.*)$/.exec(url)?.[1];
  if (dist !== undefined) return dist;
  return url === '' ? frame.functionName : url;
}

function top(map: Map<string, number>, count: number): string[] {
  return [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([key, us]) => `${(us / 1000).toFixed(1).padStart(9)} ms  ${key}`);
}

export function summarizeProfile(profile: CpuProfile, count = 20): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((sample, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const leaf = byId.get(sample);
    if (leaf === undefined || IDLE.has(leaf.callFrame.functionName)) return;
    busy += dt;
    const place = where(leaf.callFrame);
    self.set(place, (self.get(place) ?? 0) + dt);
    const seen = new Set<string>();
    for (let id: number | undefined = sample; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)?.callFrame;
      if (frame === undefined || !frame.url.includes('/dist/')) continue;
      const key = `${frame.functionName || '(anonymous)'} ${where(frame)}:${frame.lineNumber + 1}`;
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + dt);
    }
  });
  const seconds = (profile.endTime - profile.startTime) / 1e6;
  return [
    `wall ${seconds.toFixed(1)} s, busy ${(busy / 1000).toFixed(0)} ms`,
    'self time by package / file:',
    ...top(self, count),
    "inclusive time of stackd's functions (synchronous parts):",
    ...top(inclusive, count),
  ].join('\n');
}

/** Writes `summary.txt` beside the profiles in `dir`; returns its path. */
export async function summarizeProfiles(dir: string): Promise<string> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile')).sort();
  const parts: string[] = [];
  for (const file of files) {
    const profile = JSON.parse(await readFile(join(dir, file), 'utf8')) as CpuProfile;
    parts.push(`=== ${file}\n${summarizeProfile(profile)}`);
  }
  const path = join(dir, 'summary.txt');
  await writeFile(path, `${parts.join('\n\n')}\n`);
  return path;
}
