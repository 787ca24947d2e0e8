/** The compose runner: `validate`, `up`, `down` of one project with the configured compose command. */
import { AUTO_CANDIDATES, displayCommand, splitCommand } from './command.js';
import { ComposeError, ComposeUnavailableError } from './errors.js';
import { silentLogger, type ComposeLogger, type ComposeRunnerOptions } from './options.js';
import { runProcess, type ProcessResult } from './process.js';
import { failureReason, stderrTail } from './stderr.js';
import type { ComposeRunOptions, ComposeRunner, ComposeTarget } from './types.js';

interface ResolvedCommand {
  readonly argv: readonly string[];
  /** `version --short` output, when already known. */
  readonly version: string | undefined;
}

/** The docker CLI's answer when the compose plugin is not installed. */
const NOT_A_DOCKER_COMMAND = /is not a docker command/;

class Runner implements ComposeRunner {
  /** `undefined` for `auto`; else the configured argv. */
  readonly #configured: readonly string[] | undefined;
  readonly #env: Readonly<Record<string, string>>;
  readonly #logger: ComposeLogger;
  readonly #probeTimeoutMs: number;
  /** Settles once; a failed detection is forgotten so that the next call tries again. */
  #resolved: Promise<ResolvedCommand> | undefined;
  #description: Promise<string> | undefined;

  constructor(options: ComposeRunnerOptions) {
    const command: unknown = options.command ?? 'auto';
    if (typeof command !== 'string' || command.trim() === '') {
      throw new TypeError(
        `Expected \`command\` to be \`auto\` or a command line, got \`${JSON.stringify(command)}\` (${typeof command})`,
      );
    }
    this.#configured = command.trim() === 'auto' ? undefined : splitCommand(command);
    this.#env = options.env ?? {};
    this.#logger = options.logger ?? silentLogger;
    this.#probeTimeoutMs = options.probeTimeoutMs ?? 15_000;
    if (!Number.isFinite(this.#probeTimeoutMs) || this.#probeTimeoutMs <= 0) {
      throw new TypeError(
        `Expected \`probeTimeoutMs\` to be a number above 0, got \`${this.#probeTimeoutMs}\` (${typeof this.#probeTimeoutMs})`,
      );
    }
  }

  async validate(target: ComposeTarget, options?: ComposeRunOptions): Promise<void> {
    await this.#run(target, ['config', '-q'], options);
  }

  async up(target: ComposeTarget, options?: ComposeRunOptions): Promise<void> {
    await this.#run(target, ['up', '-d', '--remove-orphans'], options);
  }

  async down(target: ComposeTarget, options?: ComposeRunOptions): Promise<void> {
    await this.#run(target, ['down', '--remove-orphans'], options);
  }

  describe(): Promise<string> {
    this.#description ??= this.#describe();
    this.#description.catch(() => {
      this.#description = undefined;
    });
    return this.#description;
  }

  async #describe(): Promise<string> {
    const command = await this.#command();
    const version = command.version ?? (await this.#probe(command.argv)).version;
    return `${displayCommand(command.argv)} ${version}`;
  }

  #command(): Promise<ResolvedCommand> {
    this.#resolved ??= this.#resolve();
    this.#resolved.catch(() => {
      this.#resolved = undefined;
    });
    return this.#resolved;
  }

  async #resolve(): Promise<ResolvedCommand> {
    if (this.#configured !== undefined) return { argv: this.#configured, version: undefined };
    const failures: string[] = [];
    for (const argv of AUTO_CANDIDATES) {
      try {
        const found = await this.#probe(argv);
        this.#logger.debug('compose command detected', {
          command: displayCommand(argv),
          version: found.version,
        });
        return found;
      } catch (error) {
        failures.push(`\`${displayCommand(argv)}\`: ${(error as Error).message}`);
      }
    }
    throw new ComposeUnavailableError(
      `no compose command works (tried ${failures.join('; ')})`,
      AUTO_CANDIDATES.map((argv) => displayCommand(argv)).join(' | '),
    );
  }

  /** `<argv> version --short`; throws ComposeUnavailableError or ComposeError. */
  async #probe(argv: readonly string[]): Promise<ResolvedCommand> {
    const full = [...argv, 'version', '--short'];
    const result = await runProcess(full, { env: this.#env, timeoutMs: this.#probeTimeoutMs });
    if (!result.ok) throw toError(argv, full, 'version', result, this.#probeTimeoutMs);
    const version = result.stdout.trim().split('\n')[0]?.trim() ?? '';
    return { argv, version: version === '' ? 'unknown' : version };
  }

  async #run(
    target: ComposeTarget,
    subcommand: readonly string[],
    options: ComposeRunOptions = {},
  ): Promise<void> {
    const { argv } = await this.#command();
    const verb = subcommand[0] ?? '';
    const full = [
      ...argv,
      '-p',
      target.project,
      '--project-directory',
      target.dir,
      ...target.files.flatMap((file) => ['-f', file]),
      ...subcommand,
    ];
    if (options.signal?.aborted === true) {
      throw new ComposeError(
        `${displayCommand(argv)} ${verb} was aborted before it started`,
        { command: full.join(' '), exitCode: null, stderrTail: '', timedOut: false, aborted: true },
        { cause: options.signal.reason },
      );
    }
    const result = await runProcess(full, {
      cwd: target.dir,
      env: this.#env,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    });
    const meta = { project: target.project, command: verb, durationMs: Math.round(result.durationMs) };
    if (result.ok) {
      this.#logger.debug('compose command succeeded', meta);
      return;
    }
    const error = toError(argv, full, verb, result, options.timeoutMs);
    this.#logger.warn('compose command failed', { ...meta, error: error.message });
    throw error;
  }
}

/** Classify a failed process: command missing → ComposeUnavailableError, else ComposeError. */
function toError(
  base: readonly string[],
  full: readonly string[],
  verb: string,
  result: Extract<ProcessResult, { ok: false }>,
  timeoutMs: number | undefined,
): ComposeError | ComposeUnavailableError {
  const { error } = result;
  const shown = displayCommand(base);
  const stderr = typeof error.stderr === 'string' ? error.stderr : '';
  if (error.code === 'ENOENT' || error.code === 'EACCES') {
    return new ComposeUnavailableError(
      `compose command \`${shown}\` cannot be run: ${error.code === 'ENOENT' ? 'not found' : 'permission denied'}`,
      shown,
      { cause: error },
    );
  }
  if (NOT_A_DOCKER_COMMAND.test(stderr)) {
    return new ComposeUnavailableError(
      `compose command \`${shown}\` is not available: ${failureReason(stderr)}`,
      shown,
      {
        cause: error,
      },
    );
  }
  const reason = failureReason(stderr);
  const exitCode = typeof error.exitCode === 'number' ? error.exitCode : null;
  let message: string;
  if (result.timedOut) message = `${shown} ${verb} timed out after ${timeoutMs ?? 0} ms`;
  else if (result.aborted) message = `${shown} ${verb} was aborted`;
  else if (exitCode === null) message = `${shown} ${verb} was killed by ${error.signal ?? 'a signal'}`;
  else message = `${shown} ${verb} failed (exit ${exitCode})`;
  if (reason !== '' && !result.timedOut && !result.aborted) message += `: ${reason}`;
  return new ComposeError(
    message,
    {
      command: full.join(' '),
      exitCode,
      stderrTail: stderrTail(stderr),
      timedOut: result.timedOut,
      aborted: result.aborted,
    },
    { cause: error },
  );
}

export function createComposeRunner(options: ComposeRunnerOptions = {}): ComposeRunner {
  return new Runner(options);
}
