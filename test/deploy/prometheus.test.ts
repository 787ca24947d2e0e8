/**
 * deploy/prometheus: the alert rules pass `promtool check rules`, their unit tests pass
 * `promtool test rules`, and every stackd metric they use is a real one (names.ts and a scrape).
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { load } from 'js-yaml';
import { METRIC_NAMES } from '../../internal/metrics/index.js';
import { DEPLOY, type Scrape, baseName, referencedNames, scrapeAfterHooks } from './helpers.js';

const DIR = join(DEPLOY, 'prometheus');
const RULES = join(DIR, 'alerts.yaml');
const TESTS = join(DIR, 'alerts.test.yaml');

const EXPECTED_ALERTS = [
  'StackdStackFailed',
  'StackdStackOutOfSync',
  'StackdSourceFetchFailing',
  'StackdNoSuccessfulFetch',
  'StackdRuntimeDown',
  'StackdReconcileQueueStuck',
  'StackdDown',
];

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleTest {
  alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[];
}

let rules: Rule[];
let scrape: Scrape;

beforeAll(async () => {
  const doc = load(await readFile(RULES, 'utf8')) as { groups: { rules: Rule[] }[] };
  rules = doc.groups.flatMap((g) => g.rules);
  scrape = await scrapeAfterHooks();
});

describe('deploy/prometheus/alerts.yaml', () => {
  it('passes promtool check rules', async () => {
    const result = await execa('promtool', ['check', 'rules', RULES], { reject: false });
    expect(`${result.stdout}\n${result.stderr}`).toContain(`SUCCESS: ${EXPECTED_ALERTS.length} rules found`);
    expect(result.exitCode).toBe(0);
  });

  it('passes its promtool unit tests (alerts.test.yaml)', async () => {
    const result = await execa('promtool', ['test', 'rules', TESTS], { cwd: DIR, reject: false });
    expect(`${result.stdout}\n${result.stderr}`).toContain('SUCCESS');
    expect(result.exitCode).toBe(0);
  });

  it('has every expected alert, each with a severity, a summary and a description', () => {
    expect(rules.map((r) => r.alert).sort()).toEqual([...EXPECTED_ALERTS].sort());
    for (const rule of rules) {
      expect(rule.labels?.['severity']).toMatch(/^(warning|critical)$/);
      expect(rule.annotations?.['summary']?.length ?? 0).toBeGreaterThan(10);
      expect(rule.annotations?.['description']?.length ?? 0).toBeGreaterThan(100);
    }
  });

  it('has unit tests that see every alert both firing and not firing', async () => {
    const doc = load(await readFile(TESTS, 'utf8')) as { tests: RuleTest[] };
    const firing = new Set<string>();
    const silent = new Set<string>();
    for (const test of doc.tests) {
      for (const check of test.alert_rule_test ?? []) {
        (check.exp_alerts.length > 0 ? firing : silent).add(check.alertname);
      }
    }
    for (const alert of EXPECTED_ALERTS) {
      expect([alert, firing.has(alert)]).toEqual([alert, true]);
      expect([alert, silent.has(alert)]).toEqual([alert, true]);
    }
  });

  it('uses only metric names that stackd exports (names.ts and a real scrape)', () => {
    const used = new Set<string>();
    for (const rule of rules) for (const name of referencedNames(rule.expr)) used.add(name);
    expect(used.size).toBeGreaterThan(5);
    for (const name of used) {
      expect([name, (METRIC_NAMES as readonly string[]).includes(baseName(name))]).toEqual([name, true]);
      expect([name, scrape.samples.has(name)]).toEqual([name, true]);
    }
  });
});
