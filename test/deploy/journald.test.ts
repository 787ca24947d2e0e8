/**
 * The journal sees stackd's levels: a real systemd-journald, private to this test, records a
 * failed `source.fetch` of `stackd sync --once` (the built CLI) with PRIORITY 4, so
 * `journalctl -p warning` lists it, and a fatal error with PRIORITY 3; info lines stay at 6.
 *
 * systemd is not PID 1 here, so there is no journal to write to. The test makes one in a new mount
 * namespace (`unshare -m`, as root): tmpfs on /run/systemd/journal (the sockets), /run/log and
 * /var/log/journal (the files), then starts /lib/systemd/systemd-journald, which creates its
 * sockets itself when systemd does not pass them. Nothing outside the namespace is touched.
 * stackd runs under `systemd-cat --level-prefix=true`, which connects stdout and stderr to
 * journald's stdout stream with the prefix parsing a unit gets from `SyslogLevelPrefix=` (default
 * yes). systemd-cat does not set JOURNAL_STREAM (systemd does, for units), so a shell sets it from
 * its stderr's `stat -L -c %d:%i`, exactly what systemd puts there. Skipped, saying why, without
 * systemd-journald, journalctl, systemd-cat or unshare, or when not root.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';
import { CLI } from './helpers.js';

const JOURNALD = ['/lib/systemd/systemd-journald', '/usr/lib/systemd/systemd-journald'].find((p) =>
  existsSync(p),
);
const TOOLS = ['journalctl', 'systemd-cat', 'unshare'];

/** Why this machine cannot run the test, or undefined when it can. */
async function missing(): Promise<string | undefined> {
  if (JOURNALD === undefined) return 'no systemd-journald in /lib/systemd or /usr/lib/systemd';
  for (const tool of TOOLS) {
    const found = await execa('sh', ['-c', `command -v ${tool}`], { reject: false });
    if (found.exitCode !== 0) return `${tool} is not installed`;
  }
  if (process.getuid?.() !== 0) return 'not root: a private journal needs unshare -m and tmpfs mounts';
  return undefined;
}

/** In the namespace: the private journal, then stackd through systemd-cat, then journalctl. */
const SCRIPT = String.raw`
set -eu
mkdir -p /run/systemd/journal /run/log /var/log/journal
mount -t tmpfs tmpfs /run/systemd/journal
mount -t tmpfs tmpfs /run/log
mount -t tmpfs tmpfs /var/log/journal
SYSTEMD_LOG_TARGET=console "$JOURNALD" >"$WORK/journald.log" 2>&1 &
journald=$!
trap 'kill $journald 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -S /run/systemd/journal/stdout ] && break; sleep 0.05; done
[ -S /run/systemd/journal/stdout ] || { echo "journald did not start" >&2; cat "$WORK/journald.log" >&2; exit 90; }
# As systemd does for a unit: JOURNAL_STREAM is the device:inode of the stream on stderr.
run='JOURNAL_STREAM=$(stat -L -c %d:%i /proc/self/fd/2) exec "$@"'
systemd-cat -t stackd-test --level-prefix=true sh -c "$run" sh \
  "$NODE" "$CLI" sync --once --source-url http://127.0.0.1:9/stacks.git --data-dir "$WORK/data" || true
systemd-cat -t stackd-test --level-prefix=true sh -c "$run" sh \
  "$NODE" "$CLI" run --data-dir "$WORK/data" --source-url http://127.0.0.1:9/stacks.git --listen nowhere || true
# journald writes what it read before it answers journalctl's flush (SIGUSR1 is for /var).
sleep 0.3
echo "--- warning"
journalctl -D /run/log/journal -t stackd-test -p warning -o json --no-pager
echo "--- all"
journalctl -D /run/log/journal -t stackd-test -o json --no-pager
`;

interface Entry {
  readonly PRIORITY: string;
  readonly MESSAGE: string;
}

function entries(text: string): Entry[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Entry);
}

const reason = await missing();
// Skipped only off CI: under CI (CI=true, .ci/run) a missing journald fails instead of passing unseen.
const maybe = reason === undefined || process.env['CI'] === 'true' ? describe : describe.skip;
if (reason !== undefined) {
  console.warn(`test/deploy/journald.test.ts skipped: ${reason}`);
}

maybe('journalctl -p warning shows stackd warnings (a private systemd-journald)', () => {
  let work: string;
  let warning: Entry[];
  let all: Entry[];

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`make build\` first`);
    work = await mkdtemp(join(tmpdir(), 'stackd-journald-'));
    await writeFile(join(work, 'script.sh'), SCRIPT);
    const r = await execa('unshare', ['-m', '--propagation', 'private', 'bash', join(work, 'script.sh')], {
      reject: false,
      extendEnv: false,
      env: {
        PATH: process.env['PATH'] ?? '/usr/bin:/bin',
        JOURNALD: JOURNALD ?? '',
        NODE: process.execPath,
        CLI,
        WORK: work,
        DOCKER_HOST: 'unix:///nonexistent/docker.sock',
        STACKD_LOG_FORMAT: 'json',
      },
      timeout: 90_000,
    });
    if (r.exitCode !== 0) throw new Error(`the private journal failed (${r.exitCode}): ${r.stderr}`);
    const [, afterWarning = ''] = r.stdout.split('--- warning\n');
    const [warningText = '', allText = ''] = afterWarning.split('--- all\n');
    warning = entries(warningText);
    all = entries(allText);
  }, 120_000);

  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('lists the failed source.fetch at PRIORITY 4, without the prefix in MESSAGE', () => {
    const fetch = warning.filter((e) => e.MESSAGE.includes('"event":"source.fetch"'));
    expect(fetch).toHaveLength(1);
    expect(fetch[0]?.PRIORITY).toBe('4');
    expect(JSON.parse(fetch[0]?.MESSAGE ?? '')).toMatchObject({ level: 'warn', result: 'failure' });
  });

  it('lists the fatal error of `stackd run` at PRIORITY 3', () => {
    const fatal = warning.filter((e) => e.MESSAGE.includes('"event":"daemon.fatal"'));
    expect(fatal).toHaveLength(1);
    expect(fatal[0]?.PRIORITY).toBe('3');
  });

  it('leaves info lines out of -p warning (they are PRIORITY 6)', () => {
    const info = all.filter((e) => e.MESSAGE.includes('"level":"info"'));
    expect(info.length).toBeGreaterThan(0);
    for (const e of info) expect(e.PRIORITY).toBe('6');
    expect(warning.filter((e) => e.MESSAGE.includes('"level":"info"'))).toEqual([]);
  });
});
