/**
 * The Node.js version stackd promises is one the whole production tree supports: every package
 * that `npm ls --omit=dev --all` finds installed (what install.sh installs or copies) declares an
 * `engines.node` range, if any, that admits the oldest version package.json's `engines.node`
 * admits; and the README and deploy/INSTALL.md state that same minimum (to the precision they
 * write it: "≥ 20" agrees with ">=20.5.0", "≥ 22" or "≥ 20.4" would not). Ranges are read with
 * semver, npm's own range semantics.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import semver from 'semver';
import { DEPLOY, ROOT } from './helpers.js';

interface Manifest {
  readonly name?: string;
  readonly version?: string;
  readonly engines?: { readonly node?: string };
}

async function manifest(dir: string): Promise<Manifest> {
  return JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as Manifest;
}

/** Whether `stated` ("20", "20.5", "20.5.0") is `min` written to fewer or as many places. */
function agrees(stated: string, min: semver.SemVer): boolean {
  const parts = [min.major, min.minor, min.patch];
  return stated.split('.').every((n, i) => Number(n) === parts[i]);
}

let range: string;
let min: semver.SemVer;
/** Installed production packages, as `name@version` with the directory they are in. */
let packages: { readonly id: string; readonly dir: string; readonly node: string | undefined }[];

beforeAll(async () => {
  const own = await manifest(ROOT);
  range = own.engines?.node ?? '';
  const valid = semver.validRange(range);
  expect([range, valid]).not.toEqual([range, null]);
  min = semver.minVersion(range) ?? new semver.SemVer('0.0.0');
  // npm ls exits non-zero on problems (a missing package); the check below wants them reported.
  const ls = await execa('npm', ['ls', '--omit=dev', '--all', '--parseable', '--offline'], {
    cwd: ROOT,
    reject: false,
    env: { npm_config_update_notifier: 'false' },
  });
  expect(ls.stderr).toBe('');
  const dirs = ls.stdout.split('\n').filter((line) => line !== '' && line !== ROOT.replace(/\/$/, ''));
  packages = await Promise.all(
    [...new Set(dirs)].map(async (dir) => {
      const m = await manifest(dir);
      return { id: `${m.name ?? dir}@${m.version ?? '?'}`, dir, node: m.engines?.node };
    }),
  );
}, 60_000);

describe('the Node.js version stackd supports', () => {
  it('is a lower bound in package.json (engines.node ">=X.Y.Z", what install.sh checks)', () => {
    expect(range).toMatch(/^>=\d+(\.\d+){0,2}$/);
  });

  it('is admitted by the engines.node of every installed production package', () => {
    // The tree is really there: the direct dependencies and a nested one.
    const ids = packages.map((p) => p.id);
    for (const name of ['fastify', 'light-my-request', 'cookie', 'execa', 'isomorphic-git']) {
      expect([name, ids.some((id) => id.startsWith(`${name}@`))]).toEqual([name, true]);
    }
    const refusing = packages
      .filter((p) => p.node !== undefined && !semver.satisfies(min, p.node))
      .map((p) => `${p.id} engines.node ${JSON.stringify(p.node)} (${p.dir.slice(ROOT.length)})`);
    expect(refusing).toEqual([]);
  });

  it('is the one the README states', async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    const stated = [...readme.matchAll(/Node\.js ≥ (\d+(?:\.\d+){0,2})/g)].map((m) => m[1] ?? '');
    expect(stated.length).toBeGreaterThan(0);
    expect(stated.filter((v) => !agrees(v, min))).toEqual([]);
  });

  it('is the one deploy/INSTALL.md states', async () => {
    const install = await readFile(join(DEPLOY, 'INSTALL.md'), 'utf8');
    const stated = [...install.matchAll(/Node\.js (\d+(?:\.\d+){0,2}) or later/g)].map((m) => m[1] ?? '');
    expect(stated.length).toBeGreaterThan(0);
    expect(stated.filter((v) => !agrees(v, min))).toEqual([]);
  });
});
