/**
 * The compose pass of `stackd validate` with a fake runner (the real compose is driven by
 * test/cli/validate-compose.test.ts): answers per stack, at most two at once, `.env` values
 * redacted, timeouts named, and which failures mean "no compose here".
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkProjects, composeAvailability, noEngineEnv, type ComposeCheckTarget } from './check.js';
import { ComposeError, ComposeUnavailableError } from './errors.js';
import type { PinnedCommand } from './pin.js';
import type { ComposeRunOptions, ComposeRunner, ComposeTarget } from './types.js';

const details = {
  command: 'docker compose config -q',
  exitCode: 15,
  stderrTail: '',
  timedOut: false,
  aborted: false,
};

/** A runner whose `validate` answers from `answer`, after a tick, recording what it was given. */
function fakeRunner(
  answer: (target: ComposeTarget) => Error | undefined,
  describe: () => Promise<string> = () => Promise.resolve('docker compose 2.26.1'),
) {
  const calls: { target: ComposeTarget; options: ComposeRunOptions | undefined }[] = [];
  let running = 0;
  let maxRunning = 0;
  const runner: ComposeRunner = {
    async validate(target, options) {
      calls.push({ target, options });
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running--;
      const error = answer(target);
      if (error !== undefined) throw error;
    },
    up: () => Promise.reject(new Error('not in validate')),
    pull: () => Promise.reject(new Error('not in validate')),
    down: () => Promise.reject(new Error('not in validate')),
    build: () => Promise.reject(new Error('not in validate')),
    describe,
    pin: () => Promise.resolve({} as PinnedCommand),
  };
  return { runner, calls, maxRunning: () => maxRunning };
}

const target = (id: string, envFile?: string): ComposeCheckTarget => ({
  id,
  project: id,
  dir: `/repo/${id}`,
  files: [`/repo/${id}/compose.yaml`],
  ...(envFile === undefined ? {} : { envFile }),
});

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stackd-check-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('checkProjects', () => {
  it('answers per stack: null when compose accepts, its message when it refuses; two at a time', async () => {
    const fake = fakeRunner((t) =>
      t.project === 'bad'
        ? new ComposeError(
            'docker compose config failed (exit 15): services.web Additional property imagee is not allowed',
            details,
          )
        : undefined,
    );
    const targets = ['a', 'bad', 'c', 'd', 'e'].map((id) => target(id));
    const answers = await checkProjects(fake.runner, targets, { timeoutMs: 1234 });
    expect([...answers]).toEqual([
      ['a', null],
      [
        'bad',
        'docker compose config failed (exit 15): services.web Additional property imagee is not allowed',
      ],
      ['c', null],
      ['d', null],
      ['e', null],
    ]);
    expect(fake.maxRunning()).toBe(2);
    // The target as built (no label override added), each bounded.
    expect(fake.calls.map((c) => c.target)).toEqual(targets);
    expect(fake.calls.every((c) => c.options?.timeoutMs === 1234)).toBe(true);
  });

  it('redacts the values of the stack’s .env in what compose said', async () => {
    const envFile = join(dir, 'secret.env');
    await writeFile(envFile, 'PORT=hunter2-port\nexport TOKEN="s3cr3t value"\n');
    const fake = fakeRunner(
      () =>
        new ComposeError(
          'docker compose config failed (exit 15): Invalid containerPort: hunter2-port (s3cr3t value)',
          details,
        ),
    );
    const answers = await checkProjects(fake.runner, [target('web', envFile)], { timeoutMs: 1000 });
    expect(answers.get('web')).toBe(
      'docker compose config failed (exit 15): Invalid containerPort: *** (***)',
    );
  });

  it('a timeout is an answer naming the setting; anything else than a compose failure is thrown', async () => {
    const timedOut = fakeRunner(
      () =>
        new ComposeError('docker compose config timed out after 5 ms', {
          ...details,
          exitCode: null,
          timedOut: true,
        }),
    );
    const answers = await checkProjects(timedOut.runner, [target('slow')], {
      timeoutMs: 5,
      timeoutSetting: 'reconcile.timeout',
    });
    expect(answers.get('slow')).toBe('docker compose config timed out after 5 ms (reconcile.timeout)');
    const gone = fakeRunner(
      () => new ComposeUnavailableError('compose command `x` cannot be run: not found', 'x'),
    );
    await expect(checkProjects(gone.runner, [target('a')], { timeoutMs: 5 })).rejects.toThrow(
      ComposeUnavailableError,
    );
  });

  it('no targets: no compose process', async () => {
    const fake = fakeRunner(() => undefined);
    expect((await checkProjects(fake.runner, [], { timeoutMs: 5 })).size).toBe(0);
    expect(fake.calls).toEqual([]);
  });
});

describe('composeAvailability', () => {
  it('names the compose that answers', async () => {
    const fake = fakeRunner(() => undefined);
    await expect(composeAvailability(fake.runner)).resolves.toEqual({
      available: true,
      command: 'docker compose 2.26.1',
    });
  });

  it('a compose that cannot be run, or does not answer `version`, is unavailable with why', async () => {
    const missing = fakeRunner(
      () => undefined,
      () =>
        Promise.reject(new ComposeUnavailableError('no compose command found (`docker compose`: …)', 'auto')),
    );
    await expect(composeAvailability(missing.runner)).resolves.toEqual({
      available: false,
      problem: 'no compose command found (`docker compose`: …)',
    });
    const broken = fakeRunner(
      () => undefined,
      () => Promise.reject(new ComposeError('/bin/false version failed (exit 1)', details)),
    );
    await expect(composeAvailability(broken.runner)).resolves.toEqual({
      available: false,
      problem: '/bin/false version failed (exit 1)',
    });
    const bug = fakeRunner(
      () => undefined,
      () => Promise.reject(new TypeError('a bug')),
    );
    await expect(composeAvailability(bug.runner)).rejects.toThrow(TypeError);
  });
});

describe('noEngineEnv', () => {
  it('points DOCKER_HOST into the private directory and blanks what could pick another engine', () => {
    expect(noEngineEnv('/tmp/stackd-validate-x')).toEqual({
      DOCKER_HOST: 'unix:///tmp/stackd-validate-x/no-engine.sock',
      DOCKER_CONTEXT: '',
      DOCKER_TLS_VERIFY: '',
      DOCKER_TLS: '',
      DOCKER_CERT_PATH: '',
    });
  });
});
