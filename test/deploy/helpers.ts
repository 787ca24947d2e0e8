/**
 * Shared by the deploy/ tests: paths, the metric names a query text uses, and the names a real
 * `/metrics` scrape of stackd's registry contains once every hook has been fed.
 */
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { METRIC_NAMES, createMetrics } from '../../internal/metrics/index.js';
import type { StackRecord } from '../../internal/state/index.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const DEPLOY = join(ROOT, 'deploy');
export const CLI = join(ROOT, 'dist/cmd/stackd/main.js');

const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'] as const;

/** Every `stackd_…` name in `text`, as written (suffixes such as `_bucket` kept). */
export function referencedNames(text: string): Set<string> {
  return new Set(text.match(/stackd_[a-z_]+/g) ?? []);
}

/** A name as written in a query, mapped to the metric it belongs to: `x_bucket` → `x` when `x` is a metric. */
export function baseName(name: string): string {
  const known = METRIC_NAMES as readonly string[];
  if (known.includes(name)) return name;
  for (const suffix of HISTOGRAM_SUFFIXES) {
    if (name.endsWith(suffix) && known.includes(name.slice(0, -suffix.length))) {
      return name.slice(0, -suffix.length);
    }
  }
  return name;
}

export interface Scrape {
  readonly text: string;
  /** Metric families (`# TYPE name type`). */
  readonly families: ReadonlySet<string>;
  /** Sample names (`name{…} value`), with `_bucket`/`_sum`/`_count` for histograms. */
  readonly samples: ReadonlySet<string>;
}

/**
 * A real scrape: `createMetrics()` with every controller hook fed once (fetch, revision,
 * stackRecord, reconcile, queue.*) and one webhook, then the registry's exposition text.
 */
export async function scrapeAfterHooks(): Promise<Scrape> {
  const metrics = createMetrics({ runtimeUp: () => true, longestRunningSeconds: () => 3 });
  const { hooks } = metrics;
  hooks.fetch?.('success', 0.2);
  hooks.fetch?.('failure', 0.3);
  hooks.revision?.('0123456789abcdef0123456789abcdef01234567');
  const record: StackRecord = {
    project: 'web',
    status: 'synced',
    message: '',
    synced: { revision: 'r1', composeHash: `sha256:${'0'.repeat(64)}`, at: '2024-01-01T00:00:00.000Z' },
    lastResult: { outcome: 'success', at: '2024-01-01T00:00:00.000Z', message: '', durationMs: 812 },
    services: [{ name: 'web', state: 'running', health: null, inSync: true }],
    history: [],
  };
  hooks.stackRecord?.('web', record);
  hooks.reconcile?.('web', 'success', 0.8);
  hooks.reconcile?.('web', 'failure', 1.5);
  hooks.queue?.add?.();
  hooks.queue?.depth?.(1);
  hooks.queue?.queueDuration?.(0.01);
  hooks.queue?.workDuration?.(0.8);
  hooks.queue?.retry?.();
  metrics.webhook('github', 'accepted');
  const text = await metrics.registry.metrics();
  const families = new Set<string>();
  const samples = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) \S+$/.exec(line);
    if (type?.[1] !== undefined) families.add(type[1]);
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{.*\})? \S+$/.exec(line);
    if (sample?.[1] !== undefined) samples.add(sample[1]);
  }
  return { text, families, samples };
}

/** Whether `command` is on the PATH and runs. */
export async function available(command: string, ...args: string[]): Promise<boolean> {
  const result = await execa(command, args, { reject: false });
  return result.exitCode === 0;
}

export async function exists(path: string): Promise<boolean> {
  try {
    await access(path, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}
