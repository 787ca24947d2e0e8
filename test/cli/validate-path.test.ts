/**
 * The built CLI (`node dist/cmd/stackd/main.js`, run `make build` first): `stackd validate [DIR]`
 * on a path that is missing, a file, an empty directory, or a real checkout. A mistyped path must
 * fail (exit 2, naming it) rather than pass CI as "no stacks, nothing invalid"; finding no stack
 * exits 1, and a compose file directly at source.path (which deploys nothing) is named with how
 * to move it.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execa } from 'execa';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'dist', 'cmd', 'stackd', 'main.js');

/**
 * Runs the built stackd with only the given STACKD_* variables (nothing from this process leaks in),
 * text logs (the `stackd validate: …` line; `auto` would be JSON on this pipe, see test/cli/logs).
 * `validate` gets `--no-compose`: these tests are about the paths, and need no compose (the
 * compose check: test/cli/validate-compose.test.ts).
 */
async function stackd(args: readonly string[], env: Record<string, string> = {}, cwd?: string) {
  const argv = args[0] === 'validate' ? [...args, '--no-compose'] : args;
  const result = await execa(process.execPath, [BIN, ...argv], {
    reject: false,
    extendEnv: false,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', STACKD_LOG_FORMAT: 'text', ...env },
    timeout: 30_000,
    ...(cwd === undefined ? {} : { cwd }),
  });
  return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
}

const COMPOSE = 'services:\n  web:\n    image: stackd-test/busybox:1\n    command: ["sleep", "3600"]\n';
const NOTE =
  /no stacks found under (\S+).*: a stack is a directory below it holding compose\.yaml, compose\.yml, docker-compose\.yml or docker-compose\.yaml$/;

let dir: string;
beforeAll(async () => {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`make build\` first`);
  dir = await mkdtemp(join(tmpdir(), 'stackd-validate-'));
  await writeFile(join(dir, 'a-file'), 'not a directory\n');
  await mkdir(join(dir, 'empty', 'nested'), { recursive: true });
  await writeFile(join(dir, 'empty', 'nested', 'README.md'), 'no compose file here\n');
  await mkdir(join(dir, 'repo', 'stacks', 'web'), { recursive: true });
  await writeFile(join(dir, 'repo', 'stacks', 'web', 'compose.yaml'), COMPOSE);
  await mkdir(join(dir, 'repo', 'stacks', 'broken'), { recursive: true });
  await writeFile(join(dir, 'repo', 'stacks', 'broken', 'docker-compose.yml'), 'services: [\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('stackd validate: the directory', () => {
  it.each(['text', 'json'])('a missing directory exits 2 naming it (--output %s)', async (output) => {
    const missing = join(dir, 'no', 'such', 'dir');
    const r = await stackd(['validate', missing, '--output', output]);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`stackd validate: ${missing}: no such directory`);
  });

  it('a relative missing directory is named by its full path', async () => {
    const r = await stackd(['validate', 'nowhere'], {}, dir);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toBe(`stackd validate: ${join(dir, 'nowhere')}: no such directory`);
  });

  it('a file instead of a directory exits 2', async () => {
    const r = await stackd(['validate', join(dir, 'a-file')]);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`stackd validate: ${join(dir, 'a-file')}: not a directory`);
  });

  it('a missing --source-path (or STACKD_SOURCE_PATH) inside it exits 2 naming the full path', async () => {
    const flag = await stackd(['validate', join(dir, 'repo'), '--source-path', 'stack']);
    expect(flag.exitCode).toBe(2);
    expect(flag.stderr).toBe(
      `stackd validate: ${join(dir, 'repo', 'stack')}: no such directory (source.path "stack")`,
    );
    const env = await stackd(['validate', join(dir, 'repo'), '-o', 'json'], {
      STACKD_SOURCE_PATH: 'stacks/web/compose.yaml',
    });
    expect(env.exitCode).toBe(2);
    expect(env.stdout).toBe('');
    expect(env.stderr).toContain(`${join(dir, 'repo', 'stacks', 'web', 'compose.yaml')}: not a directory`);
  });

  it('a --source-path leaving the directory exits 2, naming the key and the value', async () => {
    const r = await stackd(['validate', join(dir, 'repo'), '--source-path', '../empty']);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'stackd validate: invalid configuration: source.path (--source-path): expected a directory inside the repository, relative to its root, such as stacks or apps/prod ("" for the root), got a path with a `..` part: value was "../empty"',
    );
    const absolute = await stackd(['validate', join(dir, 'repo')], { STACKD_SOURCE_PATH: '/etc' });
    expect(absolute.exitCode).toBe(2);
    expect(absolute.stderr).toContain('source.path (STACKD_SOURCE_PATH): expected a directory inside');
    expect(absolute.stderr).toContain('got an absolute path: value was "/etc"');
  });

  it('an empty directory exits 1 with a one-line note on stderr; JSON stays JSON', async () => {
    const text = await stackd(['validate', join(dir, 'empty')]);
    expect(text.exitCode).toBe(1);
    expect(text.stdout).toBe('no stacks found');
    const lines = text.stderr.split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(NOTE);
    expect(NOTE.exec(lines[0] ?? '')?.[1]).toBe(join(dir, 'empty'));

    const json = await stackd(['validate', join(dir, 'empty'), '--output', 'json']);
    expect(json.exitCode).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({ stacks: [] });
    expect(json.stderr).toMatch(NOTE);
  });

  it('the note names the source.path directory, and scope when that filtered everything out', async () => {
    const sub = await stackd(['validate', join(dir, 'empty'), '--source-path', 'nested']);
    expect(sub.exitCode).toBe(1);
    expect(NOTE.exec(sub.stderr)?.[1]).toBe(join(dir, 'empty', 'nested'));

    const scoped = await stackd(['validate', join(dir, 'repo'), '--source-path', 'stacks', '-o', 'json'], {
      STACKD_SCOPE_INCLUDE: 'apps/**',
    });
    expect(scoped.exitCode).toBe(1);
    expect(JSON.parse(scoped.stdout)).toEqual({ stacks: [] });
    expect(scoped.stderr).toMatch(NOTE);
    expect(scoped.stderr).toContain('matching scope.include/scope.exclude');
  });
});

describe('stackd validate: a compose file at source.path itself (the `git pull && docker compose up -d` layout)', () => {
  const MOVE = (files: string, under: string, example: string, deploys = 'is directly', verb = 'deploys') =>
    `stackd validate: warning: ${files} ${deploys} at source.path (${under}) and ${verb} nothing: ` +
    `stacks are the directories below it; move ${deploys === 'is directly' ? 'it' : 'them'} into a directory, e.g. \`${example}\`: ` +
    'the directory name becomes the stack id';

  it('alone: exits 1, naming the file and how to move it, then that no stack was found', async () => {
    const repo = join(dir, 'cron');
    await mkdir(repo);
    await writeFile(join(repo, 'docker-compose.yml'), COMPOSE);
    await mkdir(join(repo, 'nginx'));
    await writeFile(join(repo, 'nginx', 'nginx.conf'), 'events {}\n');
    for (const output of ['text', 'json']) {
      const r = await stackd(['validate', repo, '--output', output]);
      expect(r.exitCode).toBe(1);
      const lines = r.stderr.split('\n');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toBe(
        MOVE(`\`${join(repo, 'docker-compose.yml')}\``, repo, 'myapp/docker-compose.yml'),
      );
      expect(lines[1]).toMatch(NOTE);
      if (output === 'json') {
        expect(JSON.parse(r.stdout)).toEqual({ stacks: [], rootComposeFiles: ['docker-compose.yml'] });
      } else {
        expect(r.stdout).toBe('no stacks found');
      }
    }
  });

  it('beside real stacks, under --source-path: a warning, and the exit code the stacks give', async () => {
    const repo = join(dir, 'mixed');
    await mkdir(join(repo, 'stacks', 'web'), { recursive: true });
    await writeFile(join(repo, 'stacks', 'compose.yaml'), COMPOSE);
    await writeFile(join(repo, 'stacks', 'compose.override.yml'), COMPOSE);
    await writeFile(join(repo, 'stacks', 'web', 'compose.yaml'), COMPOSE);
    const r = await stackd(['validate', repo, '--source-path', 'stacks', '-o', 'json']);
    expect(r.exitCode).toBe(0);
    const under = join(repo, 'stacks');
    expect(r.stderr).toBe(
      MOVE(
        `\`${join(under, 'compose.yaml')}\` and \`${join(under, 'compose.override.yml')}\``,
        under,
        'myapp/compose.yaml',
        'are directly',
        'deploy',
      ),
    );
    const report = JSON.parse(r.stdout) as { stacks: { id: string }[]; rootComposeFiles: string[] };
    expect(report.stacks.map((s) => s.id)).toEqual(['web']);
    expect(report.rootComposeFiles).toEqual(['stacks/compose.yaml', 'stacks/compose.override.yml']);
  });
});

describe('stackd validate: a real checkout (unchanged)', () => {
  it('a valid stack exits 0 with no note', async () => {
    const r = await stackd(['validate', join(dir, 'repo', 'stacks'), '--output', 'json'], {
      STACKD_SCOPE_EXCLUDE: 'broken',
    });
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
    const report = JSON.parse(r.stdout) as {
      stacks: { id: string; error: string | null; composeHash: string }[];
    };
    expect(report.stacks).toHaveLength(1);
    expect(report.stacks[0]).toMatchObject({ id: 'web', error: null });
    expect(report.stacks[0]?.composeHash).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('an invalid stack exits 1, found through --source-path, in text and JSON', async () => {
    const text = await stackd(['validate', join(dir, 'repo'), '--source-path', 'stacks']);
    expect(text.exitCode).toBe(1);
    expect(text.stderr).toBe('');
    expect(text.stdout).toMatch(/^broken: /m);
    expect(text.stdout).toContain('2 stack(s), 1 invalid');

    const json = await stackd(
      ['validate', '.', '--source-path', 'stacks', '-o', 'json'],
      {},
      join(dir, 'repo'),
    );
    expect(json.exitCode).toBe(1);
    const report = JSON.parse(json.stdout) as { stacks: { id: string; error: string | null }[] };
    expect(report.stacks.map((s) => [s.id, s.error === null])).toEqual([
      ['broken', false],
      ['web', true],
    ]);
  });

  it('applies source.maxFileSize as the daemon does', async () => {
    const r = await stackd(['validate', join(dir, 'repo', 'stacks'), '--output', 'json'], {
      STACKD_SCOPE_EXCLUDE: 'broken',
      STACKD_SOURCE_MAX_FILE_SIZE: '16',
    });
    expect(r.exitCode).toBe(1);
    const report = JSON.parse(r.stdout) as { stacks: { id: string; error: string | null }[] };
    expect(report.stacks[0]?.error).toMatch(
      /more than the limit of 16 bytes per file \(source\.maxFileSize\)/,
    );
  });
});
