/**
 * The client commands of the built CLI (`make build` first) against a real stackd HTTP server on
 * loopback whose controller is a recording fake (test/server/fake_controller.ts): `status` (table,
 * source line, one stack's detail, exit codes, `--watch` through a restart), `sync ID [--prune]`,
 * `pause`, `resume`, the token, `--help` per command and negatable boolean flags. No Docker.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { waitFor } from '../helpers/docker.js';
import { type Harness, TOKEN, startServer } from '../server/harness.js';
import { freePort } from '../helpers/ports.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'dist', 'cmd', 'stackd', 'main.js');

async function stackd(args: readonly string[], env: Record<string, string> = {}) {
  const result = await execa(process.execPath, [BIN, ...args], {
    reject: false,
    extendEnv: false,
    // Text, as a person at a terminal sees it (off a terminal `auto` would log errors as JSON).
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', STACKD_LOG_FORMAT: 'text', ...env },
    timeout: 30_000,
  });
  return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
}

let h: Harness | undefined;
beforeAll(() => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`make build\` first`);
});
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function server(options: Parameters<typeof startServer>[0] = {}): Promise<Harness> {
  h = await startServer(options);
  return h;
}

describe('stackd status', () => {
  it('prints the table; exit 1 because a stack is failed, 0 when none is', async () => {
    const s = await server();
    const failing = await stackd(['status', '--server', s.base]);
    expect(failing.stdout).toMatch(
      /^revision c0ffee\nSTACK\s+STATUS\s+SYNCED\s+LAST RESULT\s+AGE\s+MESSAGE\n/,
    );
    expect(failing.stdout).toMatch(/db\s+failed\s+c0ffee\s+success\s+\S+\s+boom/);
    expect(failing.exitCode).toBe(1);
    s.controller.details.delete('db');
    expect((await stackd(['status', '--server', s.base])).exitCode).toBe(0);
  });

  it('a failing source: a SOURCE FAILING line with the error, exit 3 (before a failed stack)', async () => {
    const s = await server();
    s.controller.source = {
      ...s.controller.source,
      lastError: 'fetching https://git.example.test/ops/stacks.git failed: HTTP Error: 401 Unauthorized',
      lastErrorAt: new Date().toISOString(),
      failingSince: new Date(Date.now() - 5 * 60_000).toISOString(),
    };
    const r = await stackd(['status', '--server', s.base]);
    expect(r.stdout).toMatch(
      /^SOURCE FAILING for 5m \(https:\/\/git\.example\.test\/ops\/stacks\.git, branch main; last good fetch \S+ ago; stacks are reconciled against it\):\n {2}fetching .* 401 Unauthorized\nrevision c0ffee/,
    );
    expect(r.exitCode).toBe(3);
    const json = await stackd(['status', '--server', s.base, '--output', 'json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ source: { lastError: expect.stringContaining('401') } });
    expect(json.exitCode).toBe(3);
  });

  it('says when it cuts a message, and `status ID` prints it whole with services and history', async () => {
    const s = await server();
    const long = `compose up failed: ${'x'.repeat(200)} END`;
    const db = s.controller.details.get('db');
    if (db === undefined) throw new Error('fixture');
    s.controller.details.set('db', {
      ...db,
      message: long,
      services: [
        {
          name: 'pg',
          state: 'restarting',
          health: 'unhealthy',
          inSync: true,
          restarts: 7,
          image: 'r:5000/pg:16',
          digest: `sha256:${'1'.repeat(64)}`,
          availableDigest: `sha256:${'2'.repeat(64)}`,
        },
        { name: 'backup', state: 'missing', health: null, inSync: false, restarts: null },
      ],
      history: [
        {
          action: 'update',
          outcome: 'failure',
          at: new Date().toISOString(),
          message: 'pg exited 1',
          durationMs: 900,
          revision: 'beefcafe1234567890',
          composeHash: 'sha256:1',
          changes: [
            { service: 'pg', change: 'recreate', why: 'image postgres:15 → postgres:16' },
            { service: 'backup', change: 'create', why: 'new' },
          ],
        },
      ],
    });
    const table = await stackd(['status', '--server', s.base]);
    expect(table.stdout).not.toContain('END');
    expect(table.stdout).toContain('x…');
    expect(table.stdout).toContain('(… messages cut: stackd status ID shows one stack in full)');
    const detail = await stackd(['status', 'db', '--server', s.base]);
    expect(detail.stdout).toContain(`message  ${long}`);
    expect(detail.stdout).toMatch(/^status {3}failed$/m);
    expect(detail.stdout).toMatch(
      /SERVICE\s+STATE\s+HEALTH\s+IN SYNC\s+RESTARTS\s+IMAGE\s+DIGEST\s+AVAILABLE\npg\s+restarting\s+unhealthy\s+yes\s+7\s+r:5000\/pg:16\s+sha256:111111111111\s+sha256:222222222222 \(update available\)\nbackup\s+missing\s+-\s+no\s+-\s+-\s+-\s+-$/m,
    );
    expect(detail.stdout).toMatch(/^images {3}update available: pg \(sha256:222222222222\)$/m);
    expect(detail.stdout).toMatch(
      /WHEN\s+ACTION\s+RESULT\s+REVISION\s+CHANGES\s+MESSAGE\n\d+s ago\s+update\s+failure\s+beefcafe1234\s+pg: image postgres:15 → postgres:16; backup: new\s+pg exited 1/,
    );
    expect(detail.exitCode).toBe(1);
    const apps = await stackd(['status', 'apps/web', '--server', s.base, '-o', 'json']);
    expect(JSON.parse(apps.stdout)).toMatchObject({ id: 'apps/web', history: [] });
    expect(apps.exitCode).toBe(0);
    const ghost = await stackd(['status', 'ghost', '--server', s.base]);
    expect(ghost.stderr).toMatch(/answered 404: no stack "ghost"/);
    expect(ghost.exitCode).toBe(1);
  });

  it('status ID shows a failing source too, and exits 3', async () => {
    const s = await server();
    s.controller.source = {
      ...s.controller.source,
      lastError: 'HTTP 401',
      failingSince: new Date().toISOString(),
    };
    const r = await stackd(['status', 'apps/web', '--server', s.base]);
    expect(r.stdout).toMatch(/^SOURCE FAILING for \d+s .*\n {2}HTTP 401\nstack {4}apps\/web/);
    expect(r.exitCode).toBe(3);
  });

  it('a daemon that answers no source (0.1) is shown, not crashed on', async () => {
    const s = await server();
    s.controller.details.delete('db');
    const original = s.controller.stacks.bind(s.controller);
    s.controller.stacks = () => {
      const old = original();
      Reflect.deleteProperty(old, 'source');
      return old;
    };
    const r = await stackd(['status', '--server', s.base]);
    expect(r.stdout).toMatch(/^revision c0ffee\n/);
    expect(r.exitCode).toBe(0);
  });

  it('exit 4 when no daemon answers', async () => {
    const r = await stackd(['status', '--server', `http://127.0.0.1:${await freePort()}`]);
    expect(r.stderr).toMatch(/cannot reach stackd at http:\/\/127\.0\.0\.1:\d+/);
    expect(r.exitCode).toBe(4);
  });

  it('--watch keeps going while the daemon is unreachable and shows it once it is back', async () => {
    const port = await freePort();
    const watch = execa(
      process.execPath,
      [BIN, 'status', '--watch', '--server', `http://127.0.0.1:${port}`],
      {
        reject: false,
        extendEnv: false,
        env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' },
      },
    );
    let out = '';
    watch.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    try {
      await waitFor(
        'the unreachable line',
        () => Promise.resolve(out.includes('daemon unreachable, retrying')),
        10_000,
      );
      await server({ port });
      await waitFor('the table', () => Promise.resolve(/apps\/web\s+synced/.test(out)), 10_000);
      expect(watch.exitCode).toBeNull(); // still watching
    } finally {
      watch.kill();
      await watch;
    }
  });
});

describe('stackd sync ID, pause, resume', () => {
  it('sync ID asks the daemon; --prune asks for a one-off removal', async () => {
    const s = await server();
    const plain = await stackd(['sync', 'db', '--server', s.base]);
    expect(plain.stdout).toBe(`sync of db requested from ${s.base}; stackd status db shows the outcome`);
    expect(plain.exitCode).toBe(0);
    const prune = await stackd(['sync', 'db', '--prune', '--server', s.base]);
    expect(prune.stdout).toContain('(removed if gone from Git)');
    expect(s.controller.syncCalls).toEqual(['db', 'db']);
    expect(s.controller.pruneCalls).toEqual(['db']);
    const ghost = await stackd(['sync', 'ghost', '--server', s.base]);
    expect(ghost.exitCode).toBe(1);
    expect(ghost.stderr).toMatch(/no stack "ghost"/);
  });

  it('pause and resume switch reconciliation through the API', async () => {
    const s = await server();
    const pause = await stackd(['pause', '--server', s.base]);
    expect(pause.stdout).toMatch(/^reconciliation paused on /);
    expect(s.controller.reconcileEnabled).toBe(false);
    expect((await stackd(['status', '--server', s.base])).stdout).toContain('(reconciliation paused)');
    const resume = await stackd(['resume', '--server', s.base]);
    expect(resume.stdout).toMatch(/^reconciliation resumed on /);
    expect(s.controller.reconcileCalls).toEqual([false, true]);
  });

  it('the token: sent from STACKD_API_TOKEN; without it the daemon refuses (exit 1)', async () => {
    const s = await server({ token: TOKEN });
    const refused = await stackd(['pause', '--server', s.base]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/answered 401/);
    expect(s.controller.reconcileCalls).toEqual([]);
    const ok = await stackd(['pause', '--server', s.base], { STACKD_API_TOKEN: TOKEN });
    expect(ok.exitCode).toBe(0);
    expect(s.controller.reconcileCalls).toEqual([false]);
  });
});

describe('flags', () => {
  it.each([
    ['status', ['--watch', '--server URL', '-o, --output text|json', '--listen VALUE', '--config FILE']],
    [
      'sync',
      [
        '--once',
        '--server URL',
        'ID [--prune]',
        '--prune  ',
        'with ID: remove the stack this once',
        '--source-url VALUE',
      ],
    ],
    ['pause', ['--server URL', '--config FILE', '--log-format VALUE']],
    ['validate', ['--output text|json', '[DIR]', '--prune, --no-prune']],
  ])('stackd %s --help lists its own flags and the configuration flags', async (name, expected) => {
    const r = await stackd([name, '--help']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Usage: stackd ${name} `));
    for (const text of expected) expect(r.stdout).toContain(text);
    expect(r.stdout).toContain('Exit codes: 0 success');
  });

  it('a client of the daemon lists and takes only the configuration it reads', async () => {
    const help = await stackd(['status', '--help']);
    expect(help.stdout).not.toContain('--source-url');
    expect(help.stdout).not.toContain('--prune');
    const r = await stackd(['pause', '--source-url', 'https://example.test/x.git']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/Unknown option '--source-url' \(see stackd pause --help\)/);
  });

  it('an unknown flag names the command whose help lists the valid ones', async () => {
    const r = await stackd(['status', '--bogus']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/Unknown option '--bogus' \(see stackd status --help\)/);
  });

  it.each([
    [['--no-prune'], false],
    [['--prune=false'], false],
    [['--prune=true'], true],
    [['--prune'], true],
    [['--no-prune', '--prune'], true],
    [['--prune', '--prune=false'], false],
  ])('%j over the opposite STACKD_RECONCILE_PRUNE → reconcile.prune %s', async (flags, expected) => {
    const r = await stackd(['config', '-o', 'json', ...flags], {
      STACKD_RECONCILE_PRUNE: expected ? 'false' : 'true',
    });
    expect(r.exitCode).toBe(0);
    expect((JSON.parse(r.stdout) as { reconcile: { prune: boolean } }).reconcile.prune).toBe(expected);
  });
});
