/**
 * `stackd validate`'s compose pass: `compose config -q` on each stack's files in a checkout, a
 * few at a time, each bounded, with compose's own error line (values of the stack's `.env`
 * redacted) as the answer. `config -q` needs no Docker engine, and is given none: every compose
 * process of the pass sees `DOCKER_HOST` pointing at a socket that cannot exist (see noEngineEnv),
 * so a CI runner's `DOCKER_HOST=ssh://…` or a dead `tcp://` host is never dialled.
 */
import { join } from 'node:path';
import PQueue from 'p-queue';
import { envRedactor, readEnv } from './env_redact.js';
import { ComposeUnavailableError, isComposeError } from './errors.js';
import type { ComposeRunner, ComposeTarget } from './types.js';

/** How many `config -q` run at once. */
export const CHECK_CONCURRENCY = 2;

/** One stack to check: the compose target, named by the stack id for the answer. */
export interface ComposeCheckTarget extends ComposeTarget {
  readonly id: string;
}

export interface ComposeCheckOptions {
  /** Each `config -q` is killed after this many ms. */
  readonly timeoutMs: number;
  /** The setting `timeoutMs` comes from, named when a check times out. @default none */
  readonly timeoutSetting?: string;
  /** @default CHECK_CONCURRENCY */
  readonly concurrency?: number;
}

/**
 * `config -q` for every target, at most `concurrency` at once: stack id → compose's message
 * (`docker compose config failed (exit 15): validating …: services.web Additional property imagee
 * is not allowed`), or null when compose accepted the stack. A timeout is a message too: the stack
 * was not shown to be valid. A compose that cannot be run at all throws ComposeUnavailableError.
 */
export async function checkProjects(
  runner: ComposeRunner,
  targets: readonly ComposeCheckTarget[],
  options: ComposeCheckOptions,
): Promise<ReadonlyMap<string, string | null>> {
  const queue = new PQueue({ concurrency: options.concurrency ?? CHECK_CONCURRENCY });
  const answers = await Promise.all(
    targets.map((target) =>
      queue.add(async (): Promise<[string, string | null]> => [
        target.id,
        await checkOne(runner, target, options),
      ]),
    ),
  );
  return new Map(answers);
}

async function checkOne(
  runner: ComposeRunner,
  target: ComposeCheckTarget,
  options: ComposeCheckOptions,
): Promise<string | null> {
  try {
    await runner.validate(target, { timeoutMs: options.timeoutMs });
    return null;
  } catch (error) {
    if (!isComposeError(error)) throw error;
    // compose may quote a value of the stack's `.env` (`Invalid containerPort: <PORT>`).
    const message = envRedactor(await readEnv(target.envFile)).text(error.message);
    return error.kind === 'timed_out' && options.timeoutSetting !== undefined
      ? `${message} (${options.timeoutSetting})`
      : message;
  }
}

/** Which compose runs, or why none can: `auto` found nothing, the configured one is missing or broken. */
export type ComposeAvailability =
  | { readonly available: true; readonly command: string }
  | { readonly available: false; readonly problem: string };

/**
 * Resolve the compose command (`auto`: v2, else v1) and ask its version, once: the pass is run
 * only with a compose that answers. Any other failure than "cannot be run" is thrown.
 */
export async function composeAvailability(runner: ComposeRunner): Promise<ComposeAvailability> {
  try {
    return { available: true, command: await runner.describe() };
  } catch (error) {
    // A configured command that exists but does not answer `version` counts as missing too.
    if (error instanceof ComposeUnavailableError || isComposeError(error))
      return { available: false, problem: error.message };
    throw error;
  }
}

/**
 * The environment of the pass's compose processes: no engine to reach. `DOCKER_HOST` is a socket
 * in `privateDir` (a directory only this process made, holding no socket), which overrides any
 * `DOCKER_CONTEXT`; TLS settings are blanked so that they cannot fail the client's setup. compose
 * v2 2.26 asks the engine for its info at start (Docker Desktop detection) and goes on when it
 * cannot; `config -q` itself never needs it.
 */
export function noEngineEnv(privateDir: string): Readonly<Record<string, string>> {
  return {
    DOCKER_HOST: `unix://${join(privateDir, 'no-engine.sock')}`,
    DOCKER_CONTEXT: '',
    DOCKER_TLS_VERIFY: '',
    DOCKER_TLS: '',
    DOCKER_CERT_PATH: '',
  };
}
