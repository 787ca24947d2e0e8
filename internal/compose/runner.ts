/** The compose runner: `validate`, `build`, `up`, `down` of one project with the configured compose command. */
import { invalid } from '../../pkg/validate/index.js';
import { LogEvent } from '../log/events.js';
import { envRedactor, readEnv } from './env_redact.js';
import { ComposeError, ComposeUnavailableError } from './errors.js';
import { toError } from './to_error.js';
import { silentLogger, type ComposeLogger, type ComposeRunnerOptions } from './options.js';
import { pinComposeCommand, type PinnedCandidate, type PinnedCommand } from './pin.js';
import { runProcess } from './process.js';
import type { BuildResult, ComposeRunOptions, ComposeRunner, ComposeTarget } from './types.js';
import { INSTALL_V2, V2_ONLY_FEATURES } from './v2_only.js';

interface ResolvedCommand extends PinnedCandidate {
  /** `version --short` output, when already known. */
  readonly version: string | undefined;
}

/**
 * A build refused because BuildKit wants the buildx plugin and it is not installed: the docker
 * CLI's `BuildKit is enabled but the buildx component is missing or broken` (compose v1, which
 * builds through the CLI), compose v2's `compose build requires buildx 0.17.0 or later`.
 */
const BUILDX_MISSING =
  /buildx component is missing|requires buildx\b|buildx (plugin|component) (is )?(not installed|missing)/i;

/** Extra settings of one compose process. */
interface RunExtra {
  /** A build: its output (stdout and stderr) is what a failure quotes. */
  readonly build?: boolean;
}

class Runner implements ComposeRunner {
  readonly #options: ComposeRunnerOptions;
  /** `auto`, or the configured command line. */
  readonly #command: string;
  /** The command pinned to absolute paths: once, on the first use (or `pin()` at start). */
  #pinned: Promise<PinnedCommand> | undefined;
  readonly #logger: ComposeLogger;
  readonly #probeTimeoutMs: number;
  /** Settles once; a failed detection is forgotten so that the next call tries again. */
  #resolved: Promise<ResolvedCommand> | undefined;
  #description: Promise<string> | undefined;
  /** Builds (and `up`, which may build) use the classic builder: buildx is missing. */
  #classicBuilder = false;

  constructor(options: ComposeRunnerOptions) {
    const command: unknown = options.command ?? 'auto';
    if (typeof command !== 'string' || command.trim() === '') {
      // Quoted, so that a blank command shows.
      throw new TypeError(
        `Expected \`command\` to be \`auto\` or a command line, got \`${JSON.stringify(command)}\` (${typeof command})`,
      );
    }
    this.#options = options;
    this.#command = command;
    this.#logger = options.logger ?? silentLogger;
    this.#probeTimeoutMs = options.probeTimeoutMs ?? 15_000;
    if (!Number.isFinite(this.#probeTimeoutMs) || this.#probeTimeoutMs <= 0) {
      throw invalid('probeTimeoutMs', 'a number above 0', this.#probeTimeoutMs);
    }
  }

  pin(): Promise<PinnedCommand> {
    // Found with the environment compose runs with: stackd's own, plus `env`.
    this.#pinned ??= pinComposeCommand({
      command: this.#command,
      ...(this.#options.pin ?? {}),
      env: { ...process.env, ...this.#options.env, ...this.#options.pin?.env },
    });
    return this.#pinned;
  }

  async validate(target: ComposeTarget, options?: ComposeRunOptions): Promise<void> {
    await this.#run(target, ['config', '-q'], options);
  }

  async up(target: ComposeTarget, options?: ComposeRunOptions): Promise<void> {
    const force = options?.forceRecreate === true ? ['--force-recreate'] : [];
    await this.#run(target, ['up', '-d', '--remove-orphans', ...force], options);
  }

  async build(
    target: ComposeTarget,
    services: readonly string[],
    options?: ComposeRunOptions,
  ): Promise<BuildResult> {
    if (services.length === 0) return { durationMs: 0, output: '', builder: 'default' };
    // v1's classic builds keep a failed step's container unless told (v2 has no such flag);
    // `--` so that a service named like a flag is a service.
    const v1 = / 1\.\d+\S*$/.test(await this.describe().catch(() => ''));
    const subcommand = ['build', ...(v1 ? ['--force-rm'] : []), '--', ...services];
    try {
      const result = await this.#run(target, subcommand, options, { build: true });
      return { ...result, builder: this.#classicBuilder ? 'classic' : 'default' };
    } catch (error) {
      if (!this.#mayFallBack(error)) throw error;
      this.#classicBuilder = true;
      this.#logger.warn(
        'BuildKit needs the docker buildx plugin, which is not installed: building with the classic builder (DOCKER_BUILDKIT=0); install buildx to build with BuildKit',
        { event: LogEvent.composeDetected, project: target.project, builder: 'classic' },
      );
      const result = await this.#run(target, subcommand, options, { build: true });
      return { ...result, builder: 'classic' };
    }
  }

  /** A build refused for want of buildx, with the builder left to stackd: retried classic, once. */
  #mayFallBack(error: unknown): boolean {
    if (this.#classicBuilder || !(error instanceof ComposeError) || error.kind !== 'exited') return false;
    const configured = this.#options.env?.['DOCKER_BUILDKIT'] ?? process.env['DOCKER_BUILDKIT'];
    if (configured !== undefined && configured !== '') return false;
    return BUILDX_MISSING.test(`${error.stderrTail}\n${error.message}`);
  }

  async pull(target: ComposeTarget, services: readonly string[], options?: ComposeRunOptions): Promise<void> {
    if (services.length === 0) return;
    await this.#run(target, ['pull', '--', ...services], options);
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
    const command = await this.#resolvedCommand();
    const version = command.version ?? (await this.#probe(command)).version;
    return `${command.shown} ${version}`;
  }

  #resolvedCommand(): Promise<ResolvedCommand> {
    this.#resolved ??= this.#resolve();
    this.#resolved.catch(() => {
      this.#resolved = undefined;
    });
    return this.#resolved;
  }

  async #resolve(): Promise<ResolvedCommand> {
    const pinned = await this.pin();
    if (pinned.problem !== undefined) throw new ComposeUnavailableError(pinned.problem, pinned.tried);
    const [only, ...more] = pinned.candidates;
    if (only !== undefined && more.length === 0 && this.#command.trim() !== 'auto')
      return { ...only, version: undefined };
    const failures: string[] = [...pinned.passedOver];
    for (const candidate of pinned.candidates) {
      try {
        const found = await this.#probe(candidate);
        this.#logger.debug('compose command detected', {
          event: LogEvent.composeDetected,
          command: candidate.argv.join(' '),
          version: found.version,
        });
        if (isV1(found)) this.#warnV1(found, failures);
        return found;
      } catch (error) {
        // The advice comes once, at the end.
        failures.push(`\`${candidate.shown}\`: ${(error as Error).message.replace(`; ${INSTALL_V2}`, '')}`);
      }
    }
    throw new ComposeUnavailableError(
      pinned.candidates.length === 0
        ? `no compose command found (${failures.join('; ')}): ${INSTALL_V2}`
        : `no compose command works (tried ${failures.join('; ')}): ${INSTALL_V2}`,
      pinned.tried,
    );
  }

  /** `auto` found compose v1 only: say so once, with what v1 rejects and why v2 was not used. */
  #warnV1(found: ResolvedCommand, passedOver: readonly string[]): void {
    const why = passedOver.length === 0 ? '' : ` (${passedOver.join('; ')})`;
    this.#logger.warn(
      `compose.command auto uses compose v1 (${found.shown} ${found.version ?? ''}): compose v2 is not usable${why}; v1 rejects files that use ${V2_ONLY_FEATURES}; ${INSTALL_V2}`,
      {
        event: LogEvent.composeDetected,
        compose: `${found.shown} ${found.version ?? ''}`.trim(),
        ...(passedOver.length === 0 ? {} : { passedOver }),
      },
    );
  }

  /** `<argv> version --short`; throws ComposeUnavailableError or ComposeError. */
  async #probe(candidate: PinnedCandidate): Promise<ResolvedCommand> {
    const full = [...candidate.argv, 'version', '--short'];
    const result = await runProcess(full, { env: await this.#env(), timeoutMs: this.#probeTimeoutMs });
    if (!result.ok) throw toError(candidate.shown, full, 'version', result, this.#probeTimeoutMs);
    const version = result.stdout.trim().split('\n')[0]?.trim() ?? '';
    return { ...candidate, version: version === '' ? 'unknown' : version };
  }

  async #env(): Promise<Record<string, string>> {
    return { ...(await this.pin()).env, ...this.#options.env };
  }

  async #run(
    target: ComposeTarget,
    subcommand: readonly string[],
    options: ComposeRunOptions = {},
    extra: RunExtra = {},
  ): Promise<{ durationMs: number; output: string }> {
    const { argv, shown } = await this.#resolvedCommand();
    const verb = subcommand[0] ?? '';
    const full = [
      ...argv,
      '-p',
      target.project,
      '--project-directory',
      target.dir,
      ...(target.envFile === undefined ? [] : ['--env-file', target.envFile]),
      ...target.files.flatMap((file) => ['-f', file]),
      ...subcommand,
    ];
    if (options.signal?.aborted === true) {
      throw new ComposeError(
        `${shown} ${verb} was aborted before it started`,
        { command: full.join(' '), exitCode: null, stderrTail: '', timedOut: false, aborted: true },
        { cause: options.signal.reason },
      );
    }
    const builds = verb === 'build' || verb === 'up';
    const result = await runProcess(full, {
      cwd: target.dir,
      env: {
        ...(await this.#env()),
        ...(builds && this.#classicBuilder ? { DOCKER_BUILDKIT: '0' } : {}),
      },
      ...(extra.build === true ? { all: true } : {}),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(this.#options.children === undefined
        ? {}
        : { record: { registry: this.#options.children, project: target.project, command: verb } }),
    });
    const meta = {
      event: LogEvent.composeRun,
      project: target.project,
      command: verb,
      durationMs: Math.round(result.durationMs),
    };
    if (result.ok) {
      this.#logger.debug('compose command succeeded', { ...meta, result: 'success' });
      return { durationMs: result.durationMs, output: result.all ?? `${result.stdout}\n${result.stderr}` };
    }
    const error = toError(shown, full, verb, result, options.timeoutMs, extra.build === true);
    // compose may quote a value of the stack's `.env` (`Invalid containerPort: <PORT>`).
    const redactor = envRedactor(await readEnv(target.envFile));
    this.#logger.warn('compose command failed', {
      ...meta,
      result: 'failure',
      error: redactor.text(error.message),
    });
    throw error;
  }
}

/** A compose v1 answer to `version --short` (`1.29.2`), only ever probed for `auto`. */
function isV1(found: ResolvedCommand): boolean {
  return found.version !== undefined && /^1\./.test(found.version);
}

export function createComposeRunner(options: ComposeRunnerOptions = {}): ComposeRunner {
  return new Runner(options);
}
