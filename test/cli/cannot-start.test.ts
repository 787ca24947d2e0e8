/**
 * The built CLI (`make build` first), with no Docker engine: a `stackd run` that cannot start
 * exits 5 — a code the systemd unit does not restart on — with one line saying why: its
 * `server.listen` address is in use (naming the address), or another stackd holds the dataDir's
 * lock (naming the lock file and that stackd's pid). `sync --once` on a locked dataDir exits 5 too.
 * The holder is a real `stackd run` on a local repository; it runs without an engine.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { makeTempDir, removeDir } from '../helpers/git-fixtures.js';
import { createTestRepo } from '../helpers/git-repo.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const BIN = join(ROOT, 'dist', 'cmd', 'stackd', 'main.js');
/** The expected stack-frame shape of a Node.js trace: none may reach the user. */
const STACK_FRAME = /^\s+at .*(?:\(.*:\d+:\d+\)|:\d+:\d+)$/m;

let root: string;
let repo: string;
let holder: ReturnType<typeof startHolder> | undefined;
let holderUrl: URL;
const holderData = (): string => join(root, 'held');

/** Only these variables: nothing from the test's environment leaks in, and no engine answers. */
function envOf(extra: Record<string, string>): Record<string, string> {
  return {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    DOCKER_HOST: 'unix:///nonexistent',
    STACKD_SOURCE_URL: repo,
    STACKD_SOURCE_POLL_INTERVAL: '0',
    STACKD_LOG_LEVEL: 'warn',
    ...extra,
  };
}

async function stackd(args: readonly string[], extra: Record<string, string>) {
  const started = Date.now();
  const r = await execa(process.execPath, [BIN, ...args], {
    reject: false,
    extendEnv: false,
    env: envOf(extra),
    timeout: 30_000,
  });
  return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - started };
}

/** The holder: a running `stackd run` on a free port, holding its dataDir's lock. */
function startHolder() {
  return execa(process.execPath, [BIN, 'run'], {
    reject: false,
    extendEnv: false,
    env: envOf({ STACKD_DATA_DIR: holderData(), STACKD_LISTEN: '127.0.0.1:0', STACKD_LOG_LEVEL: 'info' }),
  });
}

beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`make build\` first`);
  root = await makeTempDir();
  const created = await createTestRepo(root, 'stacks');
  await created.commit({ 'web/compose.yaml': 'services: {web: {image: "stackd-test/busybox:1"}}\n' });
  repo = created.bareDir;
  const child = startHolder();
  holder = child;
  let err = '';
  holderUrl = await new Promise<URL>((resolveUrl, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`stackd run did not start:\n${err}`));
    }, 30_000);
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
      const m = /"event":"daemon\.start".*?"listen":"([^"]+)"/.exec(err);
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        resolveUrl(new URL(m[1]));
      }
    });
  });
});

afterAll(async () => {
  if (holder !== undefined) {
    holder.kill('SIGTERM');
    await holder;
  }
  await removeDir(root);
});

describe('stackd run cannot start: exit 5, one clear line', () => {
  it('when server.listen is in use, naming the address', async () => {
    const address = `127.0.0.1:${holderUrl.port}`;
    for (const format of ['json', 'text']) {
      const r = await stackd(['run'], {
        STACKD_DATA_DIR: join(root, `other-${format}`),
        STACKD_LISTEN: address,
        STACKD_LOG_FORMAT: format,
      });
      expect(r.exitCode).toBe(5);
      expect(r.ms).toBeLessThan(15_000);
      expect(r.stdout).toBe('');
      const message = `cannot listen on ${address}: address already in use`;
      if (format === 'text') {
        const lines = r.stderr.split('\n').filter((l) => l.startsWith('stackd run: '));
        expect(lines).toEqual([`stackd run: ${message}`]);
      } else {
        // The last line, in the log format: the daemon.fatal event with the exit code.
        const last = JSON.parse(r.stderr.trim().split('\n').at(-1) ?? '') as Record<string, unknown>;
        expect(last).toMatchObject({ level: 'error', event: 'daemon.fatal', exitCode: 5, message });
      }
      expect(STACK_FRAME.exec(r.stderr)).toBeNull();
      // It left nothing behind: its own lock went with it.
      expect(existsSync(join(root, `other-${format}`, 'stackd.lock'))).toBe(false);
    }
  });

  it('when another stackd holds the dataDir lock, naming the lock file and its pid', async () => {
    const pid = holder?.pid ?? -1;
    const lock = join(holderData(), 'stackd.lock');
    expect((await readFile(lock, 'utf8')).split('\n')[0]).toBe(String(pid));
    const line = `another stackd (pid ${pid}) is using dataDir ${holderData()} (it holds ${lock}); stop it first`;

    const run = await stackd(['run'], {
      STACKD_DATA_DIR: holderData(),
      STACKD_LISTEN: '127.0.0.1:0',
      STACKD_LOG_FORMAT: 'text',
    });
    expect(run.exitCode).toBe(5);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`stackd run: ${line}`);

    const sync = await stackd(['sync', '--once', '--output', 'json'], {
      STACKD_DATA_DIR: holderData(),
      STACKD_LOG_FORMAT: 'text',
    });
    expect(sync.exitCode).toBe(5);
    expect(sync.stdout).toBe('');
    expect(sync.stderr).toBe(`stackd sync: ${line}`);

    // The holder is untouched: still answering, still holding the lock.
    expect((await fetch(new URL('/healthz', holderUrl))).status).toBe(200);
    expect((await readFile(lock, 'utf8')).split('\n')[0]).toBe(String(pid));
  });
});
