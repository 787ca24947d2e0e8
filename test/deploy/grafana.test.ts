/**
 * deploy/grafana/stackd.json: valid dashboard JSON with a DS_PROMETHEUS input and variable and a
 * `stack` variable; every query is valid PromQL (checked by promtool as recording rules) and uses
 * only metric names stackd really exports (names.ts and a real scrape).
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { METRIC_NAMES } from '../../internal/metrics/index.js';
import { STACK_STATUSES } from '../../internal/status/index.js';
import { DEPLOY, type Scrape, baseName, referencedNames, scrapeAfterHooks } from './helpers.js';

const FILE = join(DEPLOY, 'grafana', 'stackd.json');
const DATASOURCE = { type: 'prometheus', uid: '${DS_PROMETHEUS}' };

interface Target {
  refId: string;
  expr: string;
  datasource?: unknown;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: unknown;
  targets?: Target[];
  gridPos: { h: number; w: number; x: number; y: number };
  fieldConfig?: { defaults?: { mappings?: { options?: Record<string, { text?: string }> }[] } };
}
interface Variable {
  name: string;
  type: string;
  query?: unknown;
  definition?: string;
}
interface Dashboard {
  __inputs: { name: string; type: string; pluginId: string }[];
  schemaVersion: number;
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Variable[] };
}

let dashboard: Dashboard;
let queries: string[];
let scrape: Scrape;

beforeAll(async () => {
  dashboard = JSON.parse(await readFile(FILE, 'utf8')) as Dashboard;
  queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  scrape = await scrapeAfterHooks();
});

describe('deploy/grafana/stackd.json', () => {
  it('is a dashboard with a DS_PROMETHEUS input and variable', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.schemaVersion).toBeLessThanOrEqual(41);
    expect(dashboard.uid).toBe('stackd');
    expect(dashboard.__inputs).toEqual([
      expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' }),
    ]);
    expect(dashboard.templating.list).toContainEqual(
      expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', query: 'prometheus' }),
    );
  });

  it('has a stack variable from label_values(stackd_stack_status, stack)', () => {
    const stack = dashboard.templating.list.find((v) => v.name === 'stack');
    expect(stack?.type).toBe('query');
    expect(stack?.definition).toBe('label_values(stackd_stack_status, stack)');
    expect(JSON.stringify(stack?.query)).toContain('label_values(stackd_stack_status, stack)');
  });

  it('has panels with unique ids, and every query on the DS_PROMETHEUS data source', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const withQueries = dashboard.panels.filter((p) => p.type !== 'row');
    expect(withQueries.length).toBeGreaterThanOrEqual(10);
    for (const panel of withQueries) {
      expect([panel.title, panel.datasource]).toEqual([panel.title, DATASOURCE]);
      expect(panel.targets?.length ?? 0).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) {
        expect([panel.title, target.datasource]).toEqual([panel.title, DATASOURCE]);
        expect(target.expr.trim()).not.toBe('');
      }
      expect(panel.gridPos.x + panel.gridPos.w).toBeLessThanOrEqual(24);
    }
  });

  it('covers what an operator needs to see', () => {
    const all = queries.join('\n');
    expect(all).toContain('stackd_stack_status');
    expect(all).toMatch(/rate\(stackd_reconcile_total\{[^}]*\}\[5m\]\)/);
    expect(all).toMatch(
      /histogram_quantile\([^,]+, sum by \(le\) \(rate\(stackd_reconcile_duration_seconds_bucket/,
    );
    expect(all).toMatch(/stackd_source_fetch_total\{[^}]*result="failure"/);
    expect(all).toContain('time() - stackd_source_last_success_timestamp_seconds');
    expect(all).toContain('stackd_workqueue_depth');
    expect(all).toContain('stackd_runtime_up');
    expect(all).toContain('time() - stackd_stack_last_sync_timestamp_seconds');
  });

  it('names every stack status in its status panels', () => {
    const texts = new Set<string>();
    for (const panel of dashboard.panels) {
      for (const mapping of panel.fieldConfig?.defaults?.mappings ?? []) {
        for (const option of Object.values(mapping.options ?? {})) if (option.text) texts.add(option.text);
      }
    }
    for (const status of STACK_STATUSES) expect([status, texts.has(status)]).toEqual([status, true]);
  });

  it('uses only metric names that stackd exports (names.ts and a real scrape)', () => {
    const used = new Set<string>();
    for (const text of [...queries, ...dashboard.templating.list.map((v) => v.definition ?? '')]) {
      for (const name of referencedNames(text)) used.add(name);
    }
    expect(used.size).toBeGreaterThanOrEqual(10);
    for (const name of used) {
      expect([name, (METRIC_NAMES as readonly string[]).includes(baseName(name))]).toEqual([name, true]);
      expect([name, scrape.families.has(baseName(name))]).toEqual([name, true]);
      expect([name, scrape.samples.has(name)]).toEqual([name, true]);
    }
  });

  it('has only valid PromQL (promtool check rules, one recording rule per query)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stackd-grafana-'));
    try {
      // Grafana variables become plain regexes; `$__…` macros are not used by this dashboard.
      expect(queries.join('\n')).not.toContain('$__');
      const rules = queries.map(
        (expr, i) =>
          `      - record: dashboard:query_${i}\n        expr: ${JSON.stringify(expr.replaceAll('$instance', '.*').replaceAll('$stack', '.*'))}\n`,
      );
      const file = join(dir, 'dashboard-queries.yaml');
      await writeFile(file, `groups:\n  - name: dashboard\n    rules:\n${rules.join('')}`);
      const result = await execa('promtool', ['check', 'rules', file], { reject: false });
      expect(`${result.stdout}\n${result.stderr}`).toContain(`SUCCESS: ${queries.length} rules found`);
      expect(result.exitCode).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
