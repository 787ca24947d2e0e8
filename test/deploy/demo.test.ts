/**
 * deploy/demo/demo.sh and deploy/examples: the scripts pass `bash -n` and shellcheck, the
 * example stacks validate with the built CLI, and the demo itself runs end to end against the
 * real engine (about 30 s): start, every stack synced, a committed change rolled out, then
 * `clean` leaves no container labelled io.stackd.managed-by=stackd-demo and no .demo/.
 *
 * The end-to-end part is skipped (the test name says why) when a demo is already running on this
 * machine: it uses the repository's .demo/ and fixed project names, and must not break a
 * developer's demo.
 */
import { describe, expect, it } from '@jest/globals';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import type { StacksResponse } from '../../internal/status/index.js';
import { CLI, DEPLOY, ROOT, available, exists } from './helpers.js';
import { freePort } from '../helpers/ports.js';

const DEMO = join(DEPLOY, 'demo', 'demo.sh');
const INSTALL = join(DEPLOY, 'install.sh');
const EXAMPLES = join(DEPLOY, 'examples');
const DEMO_DIR = join(ROOT, '.demo');
const LABEL = 'io.stackd.managed-by=stackd-demo';

const hasShellcheck = await available('shellcheck', '--version');

async function docker(...args: string[]): Promise<string> {
  return (await execa('docker', args)).stdout.trim();
}

/** Why the end-to-end demo must not run here, or undefined. */
async function demoBlocker(): Promise<string | undefined> {
  if (!(await exists(CLI))) return 'dist/ is not built (make build)';
  const engine = await execa('docker', ['info'], { reject: false, timeout: 15_000 });
  if (engine.exitCode !== 0) return 'no Docker engine answers (make test-env)';
  if (await exists(DEMO_DIR)) return `${DEMO_DIR} exists: a demo is running (make demo-clean)`;
  const ours = await execa('docker', ['ps', '-aq', '--filter', `label=${LABEL}`], { reject: false });
  if (ours.stdout.trim() !== '') return `containers labelled ${LABEL} exist: a demo is running`;
  const names = await execa('docker', ['ps', '-aq', '--filter', 'name=stackd-example-'], { reject: false });
  if (names.stdout.trim() !== '') return 'containers named stackd-example-* exist';
  return undefined;
}
const blocker = await demoBlocker();

async function stacks(url: string): Promise<StacksResponse | undefined> {
  try {
    return (await (await fetch(`${url}/api/v1/stacks`)).json()) as StacksResponse;
  } catch {
    return undefined;
  }
}

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

describe('deploy/demo/demo.sh and deploy/install.sh', () => {
  it('pass bash -n', async () => {
    for (const script of [DEMO, INSTALL]) {
      const r = await execa('bash', ['-n', script], { reject: false, all: true });
      expect([script, r.exitCode, r.all]).toEqual([script, 0, '']);
    }
  });

  (hasShellcheck ? it : it.skip)(
    `pass shellcheck${hasShellcheck ? '' : ' (SKIPPED: shellcheck is not installed; apt-get install shellcheck)'}`,
    async () => {
      const r = await execa('shellcheck', [DEMO, INSTALL], { reject: false, all: true });
      expect(r.all).toBe('');
      expect(r.exitCode).toBe(0);
    },
  );

  it('reject an unknown demo command', async () => {
    const r = await execa('bash', [DEMO, 'bogus'], { reject: false, all: true });
    expect(r.exitCode).not.toBe(0);
    expect(r.all).toContain('usage:');
  });
});

describe('deploy/examples', () => {
  it('holds 2 or 3 stacks on the test image, each compose file commented', async () => {
    const dirs = (await readdir(EXAMPLES, { withFileTypes: true })).filter((d) => d.isDirectory());
    expect(dirs.length).toBeGreaterThanOrEqual(2);
    expect(dirs.length).toBeLessThanOrEqual(3);
    for (const dir of dirs) {
      const compose = await readFile(join(EXAMPLES, dir.name, 'compose.yaml'), 'utf8');
      expect(compose).toMatch(/^# /);
      const images = [...compose.matchAll(/^\s+image: (\S+)$/gm)].map((m) => m[1]);
      expect(images.length).toBeGreaterThan(0);
      for (const image of images) expect(image).toBe('stackd-test/busybox:1');
    }
  });

  it('validate with the built CLI (stackd validate)', async () => {
    expect(await exists(CLI)).toBe(true); // `make build` first
    const r = await execa('node', [CLI, 'validate', EXAMPLES, '--output', 'json'], { reject: false });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain('"web"');
  });
});

describe('the demo, end to end', () => {
  (blocker === undefined ? it : it.skip)(
    `starts, syncs every example, rolls out a change, and cleans up${blocker === undefined ? '' : ` (SKIPPED: ${blocker})`}`,
    async () => {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      try {
        const start = await execa('bash', [DEMO], {
          cwd: ROOT,
          env: { STACKD_DEMO_PORT: String(port), STACKD_DEMO_TIMEOUT: '120' },
          reject: false,
          all: true,
        });
        expect([start.exitCode, start.all]).toEqual([0, expect.stringContaining('make demo-clean')]);
        expect(start.all).toMatch(/web\s+synced/);
        const pid = Number(await readFile(join(DEMO_DIR, 'stackd.pid'), 'utf8'));
        expect(pid).toBeGreaterThan(1);

        // The change the demo tells people to make.
        const repo = join(DEMO_DIR, 'repo');
        const scheduler = await docker('ps', '-q', '--filter', 'name=stackd-example-worker-scheduler');
        await execa('sh', ['-c', "echo '<p>changed by the test</p>' >>web/html/index.html"], { cwd: repo });
        await execa('git', ['commit', '-qam', 'web: change the page'], { cwd: repo });
        const revision = (await execa('git', ['rev-parse', 'HEAD'], { cwd: repo })).stdout.trim();
        await until(
          'web synced at the new revision',
          async () => {
            const web = (await stacks(url))?.stacks.find((s) => s.id === 'web');
            return web?.status === 'synced' && web.synced?.revision === revision ? web : undefined;
          },
          60_000,
        );
        const page = await docker(
          'exec',
          'stackd-example-web-web-1',
          'wget',
          '-qO-',
          'http://127.0.0.1:8080/',
        );
        expect(page).toContain('changed by the test');
        // Only web was recreated.
        expect(await docker('ps', '-q', '--filter', 'name=stackd-example-worker-scheduler')).toBe(scheduler);
      } finally {
        const clean = await execa('bash', [DEMO, 'clean'], { cwd: ROOT, reject: false, all: true });
        expect([clean.exitCode, clean.all]).toEqual([0, expect.stringContaining('removing')]);
      }
      expect(await docker('ps', '-aq', '--filter', `label=${LABEL}`)).toBe('');
      expect(await docker('network', 'ls', '-q', '--filter', 'name=stackd-example-')).toBe('');
      expect(await exists(DEMO_DIR)).toBe(false);
      expect((await fetch(url).catch(() => undefined)) === undefined).toBe(true);
    },
    170_000,
  );
});
