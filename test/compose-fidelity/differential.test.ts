/**
 * The differential test (issue 12): for each fixture of ./fixtures.ts, the base project and every
 * mutation of it are written to one stack directory (one path: compose's hash covers absolute
 * paths) and judged twice per service —
 *   - by compose, run as a user runs it in that directory (`docker compose -p app config
 *     --hash='*'`, no `-f`, compose reads `.env` itself), plus stackd's deliberate addition: the
 *     content of the files a service reads (env_file, bind mounts, config/secret files, build
 *     context) and the definitions of the top-level resources it uses, which compose's hash does
 *     not cover;
 *   - by stackd, through `stackd validate`'s path (discovery, buildStack, hashStack).
 * Every disagreement must be listed in KNOWN_DISAGREEMENTS with its reason, and every listed one
 * must still occur: the list shrinks as stackd's hashing follows compose more closely.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { applyMutation, CASES, type FidelityCase, type Rule } from './fixtures.js';
import {
  compareMutation,
  compareState,
  composeMissing,
  composeVersion,
  composeView,
  describeVerdict,
  KINDS,
  oracleActions,
  STACK,
  stackdView,
  writeProject,
  type Kind,
  type Verdict,
} from './harness.js';

interface Disagreement {
  readonly case: string;
  /** A mutation's name, or `(base)` for the base project itself. */
  readonly mutation: string;
  /** A service, or `*` when the whole stack is refused. */
  readonly service: string;
  readonly kind: Exclude<Kind, 'agree' | 'addition'>;
  readonly reason: string;
}

/** The causes, one line each (they guide pkg/composehash and internal/source). */
const WHY = {
  replicas:
    "deliberate (README: the count is in the service's hash, so a count change is applied even with self-heal off); compose adds or removes containers, it does not recreate",
  build:
    "deliberate: a changed `build:` is rebuilt by stackd before `up` (compose's config hash leaves build out, and recreates for the new image the build makes)",
};

/**
 * What stackd (pkg/composehash, internal/source) does differently from compose 2.26, each on
 * purpose (the README lists them). The test fails on any other disagreement, and while a listed
 * one no longer occurs.
 */
const KNOWN_DISAGREEMENTS: readonly Disagreement[] = [
  d('hash-exclusions', 'replicas', 'web', 'needless', WHY.replicas),
  d('hash-exclusions', 'scale', 'batch', 'needless', WHY.replicas),
  d('hash-exclusions', 'build-args', 'worker', 'needless', WHY.build),
];

function d(
  c: string,
  mutation: string,
  service: string,
  kind: Disagreement['kind'],
  reason: string,
): Disagreement {
  return { case: c, mutation, service, kind, reason };
}

const BASE = '(base)';

interface Row {
  readonly case: string;
  readonly mutation: string;
  readonly rule: Rule;
  readonly verdicts: readonly Verdict[];
  /** Set when stackd refuses the stack (the verdicts are then empty). */
  readonly refused?: string;
  /** What the oracle does (mutations only), to check the fixture. */
  readonly oracle?: readonly string[];
  readonly expected?: readonly string[];
}

/** Every state of one case, in one directory, one after the other. */
async function runCase(work: string, fixture: FidelityCase): Promise<Row[]> {
  const root = join(work, fixture.name);
  const dir = join(root, STACK);
  const look = async (files: Record<string, string>) => {
    await writeProject(dir, files);
    const [composeState, stackdState] = await Promise.all([composeView(dir), stackdView(root)]);
    return { composeState, stackdState };
  };
  const base = await look(fixture.files);
  const rows: Row[] = [];
  const baseRefused = base.stackdState.error;
  rows.push(
    baseRefused === null
      ? {
          case: fixture.name,
          mutation: BASE,
          rule: fixture.rule,
          verdicts: compareState(base.composeState, base.stackdState),
        }
      : { case: fixture.name, mutation: BASE, rule: fixture.rule, verdicts: [], refused: baseRefused },
  );
  for (const mutation of fixture.mutations) {
    const after = await look(applyMutation(fixture.files, mutation));
    const rule = mutation.rule ?? fixture.rule;
    const verdicts = compareMutation(
      base.composeState,
      after.composeState,
      base.stackdState,
      after.stackdState,
    );
    const oracle = oracleActions(verdicts);
    const common = { case: fixture.name, mutation: mutation.name, rule, oracle, expected: mutation.compose };
    const refused = baseRefused ?? after.stackdState.error;
    rows.push(refused === null ? { ...common, verdicts } : { ...common, verdicts: [], refused });
  }
  await rm(root, { recursive: true, force: true });
  return rows;
}

/** The disagreements of the rows (a refused base once, not once per mutation). */
function disagreements(rows: readonly Row[]): Omit<Disagreement, 'reason'>[] {
  const out: Omit<Disagreement, 'reason'>[] = [];
  const refusedBase = new Set(
    rows.filter((r) => r.mutation === BASE && r.refused !== undefined).map((r) => r.case),
  );
  for (const row of rows) {
    if (row.refused !== undefined) {
      if (row.mutation === BASE || !refusedBase.has(row.case)) {
        out.push({ case: row.case, mutation: row.mutation, service: '*', kind: 'refused' });
      }
      continue;
    }
    for (const v of row.verdicts) {
      if (v.kind === 'agree' || v.kind === 'addition') continue;
      out.push({ case: row.case, mutation: row.mutation, service: v.service, kind: v.kind });
    }
  }
  return out;
}

const key = (d: Omit<Disagreement, 'reason'>): string =>
  `${d.case} / ${d.mutation} / ${d.service}: ${d.kind}`;

function table(rows: readonly Row[]): string {
  const counts = new Map<string, Record<Kind, number>>();
  const add = (rule: string, kind: Kind, n = 1): void => {
    const entry = counts.get(rule) ?? { agree: 0, addition: 0, missed: 0, needless: 0, refused: 0 };
    entry[kind] += n;
    counts.set(rule, entry);
  };
  for (const row of rows) {
    if (row.refused !== undefined) add(row.rule, 'refused');
    for (const v of row.verdicts) add(row.rule, v.kind);
  }
  const total: Record<Kind, number> = { agree: 0, addition: 0, missed: 0, needless: 0, refused: 0 };
  for (const entry of counts.values()) for (const kind of KINDS) total[kind] += entry[kind];
  const lines = [
    ['RULE', ...KINDS.map((k) => k.toUpperCase())],
    ...[...counts].map(([rule, entry]) => [rule, ...KINDS.map((k) => String(entry[k]))]),
    ['total', ...KINDS.map((k) => String(total[k]))],
  ];
  const widths = lines[0]!.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  return lines
    .map((l) =>
      l.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  '),
    )
    .join('\n');
}

function details(rows: readonly Row[]): string {
  const lines: string[] = [];
  for (const row of rows) {
    if (row.refused !== undefined) {
      if (row.mutation === BASE) lines.push(`${row.case} / ${BASE} / *: refused — ${row.refused}`);
      continue;
    }
    for (const v of row.verdicts) {
      if (v.kind === 'agree') continue;
      lines.push(`${row.case} / ${row.mutation} / ${v.service}: ${v.kind} — ${describeVerdict(v)}`);
    }
  }
  return lines.join('\n');
}

const missing = await composeMissing();
// Skipped only off CI: under CI (CI=true) a missing compose fails instead of passing unseen.
const underCi = process.env['CI'] === 'true';
const maybe = missing === undefined || underCi ? describe : describe.skip;
if (missing !== undefined && !underCi) {
  console.warn(`test/compose-fidelity/differential.test.ts skipped: ${missing}`);
}

maybe("stackd's per-service verdicts against compose's (differential)", () => {
  let work: string | undefined;
  afterAll(async () => {
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('agrees with compose on every mutation, but for the known, listed disagreements', async () => {
    if (missing !== undefined) throw new Error(missing);
    work = await mkdtemp(join(tmpdir(), 'stackd-fidelity-'));
    const dir = work;
    const rows = (await Promise.all(CASES.map((c) => runCase(dir, c)))).flat();

    console.log(
      `compose fidelity against compose ${composeVersion}: agreement table (per service and mutation)\n${table(rows)}\n\n` +
        `disagreements and additions:\n${details(rows)}`,
    );

    // The fixtures test what they say: compose (plus stackd's addition) acts as each one expects.
    const fixtureErrors = rows
      .filter((r) => r.expected !== undefined)
      .filter((r) => JSON.stringify([...r.oracle!].sort()) !== JSON.stringify([...r.expected!].sort()))
      .map(
        (r) =>
          `${r.case} / ${r.mutation}: compose ${composeVersion} did [${r.oracle!.join(', ')}], the fixture says [${r.expected!.join(', ')}]`,
      );
    expect(fixtureErrors).toEqual([]);

    const found = new Set(disagreements(rows).map(key));
    const known = new Set(KNOWN_DISAGREEMENTS.map(key));
    // Both ways: a new disagreement must be listed with its reason, a fixed one taken off the list.
    const unlisted = [...found].filter((k) => !known.has(k));
    const noLongerOccurring = [...known].filter((k) => !found.has(k));
    expect({ unlisted, noLongerOccurring }).toEqual({ unlisted: [], noLongerOccurring: [] });
  });
});
