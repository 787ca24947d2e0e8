/**
 * `stackd validate [DIR] [--output json] [--compose | --no-compose]`: check a stacks checkout
 * without a Docker engine, for users' CI. stackd's own checks (discovery, parsing, hashes) first;
 * then `compose config -q` on each stack they passed, when a compose command is found (or
 * `--compose` demands it): what compose would refuse at apply time fails CI too. Exit 1 when a
 * stack is invalid or rejected by compose, or when there is no stack at all; a compose file
 * directly at `source.path` (which deploys nothing) is named on stderr with how to move it.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  checkProjects,
  composeAvailability,
  createComposeRunner,
  noEngineEnv,
} from '../../../internal/compose/index.js';
import { ConfigError, type Config } from '../../../internal/config/index.js';
import {
  COMPOSE_FILE_NAMES,
  formatValidateReport,
  rootComposeMessage,
  stackLimitsOf,
  validateCheckout,
  type StackComposeInput,
  type ValidateCompose,
  type ValidateReport,
} from '../../../internal/source/index.js';
import { normaliseRoot } from '../../../internal/source/snapshot.js';
import { type Io, UsageError, configFrom, outputOf, parseCommand, write } from '../cli.js';
import { randomBytes } from 'node:crypto';
import { createSecretOpener, loadAgeIdentities } from '../../../internal/secrets/index.js';

/**
 * `--compose` / `--no-compose` (or `--compose=true|false`, the last one wins): `on` demands
 * compose (missing: exit 2), `off` skips it, `auto` (neither given) runs it when it is found.
 */
export type ComposeMode = 'auto' | 'on' | 'off';

export function composeModeOf(value: string | boolean | undefined): ComposeMode {
  return value === undefined ? 'auto' : value === true ? 'on' : 'off';
}

export async function runValidate(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand('validate', argv);
  if (positionals.length > 1) throw new UsageError(`validate takes one directory, got ${positionals.length}`);
  const output = outputOf(values);
  const config = configFrom(values, io);
  const dir = resolve(positionals[0] ?? '.');
  const under = await stacksDirectory(dir, config.source.path);
  const include = [...config.scope.include];
  const exclude = [...config.scope.exclude];
  const mode = composeModeOf(values['compose']);
  const checked = await validateCheckout(dir, {
    path: config.source.path,
    include,
    exclude,
    limits: stackLimitsOf(config.source),
    // With secrets.ageKeyFile set, SOPS and age files are decrypted (MAC checked); else checked by form.
    ...(config.secrets.ageKeyFile === ''
      ? {}
      : { secrets: createSecretOpener(await loadAgeIdentities(config.secrets.ageKeyFile), randomBytes(32)) }),
  });
  // No stack: nothing for compose to check, and nothing said of it (unless --compose demands it).
  const report =
    checked.report.stacks.length === 0 && mode !== 'on'
      ? checked.report
      : await composePass(checked.report, checked.composeInputs, mode, config);
  write(io.stdout, output === 'json' ? JSON.stringify(report, null, 2) : formatValidateReport(report));
  const skipped = report.compose?.skipped;
  if (output === 'text' && mode === 'auto' && skipped !== undefined && skipped !== null) {
    write(
      io.stderr,
      `stackd validate: note: compose config -q was not run (pass --no-compose to skip it without this note): ${skipped}`,
    );
  }
  const rootFiles = report.rootComposeFiles ?? [];
  if (rootFiles.length > 0) {
    const files = rootFiles.map((file) => join(dir, file));
    write(io.stderr, `stackd validate: warning: ${rootComposeMessage(files, under)}`);
  }
  // No stacks is a failure: a repository that deploys nothing must not pass CI.
  if (report.stacks.length === 0) {
    const scoped = include.join(',') !== '**' || exclude.length > 0;
    const names = `${COMPOSE_FILE_NAMES.slice(0, -1).join(', ')} or ${COMPOSE_FILE_NAMES.at(-1) ?? ''}`;
    write(
      io.stderr,
      `stackd validate: no stacks found under ${under}` +
        (scoped ? ' matching scope.include/scope.exclude' : '') +
        `: a stack is a directory below it holding ${names}`,
    );
    return 1;
  }
  return report.stacks.some((s) => s.error !== null || (s.composeError ?? null) !== null) ? 1 : 0;
}

/**
 * The report with `composeError` on every stack and `compose` saying what ran: `config -q` on each
 * stack stackd's checks passed (two at a time, each bounded by `reconcile.timeout`, no engine), or
 * why not. `--compose` with no usable compose command is a ConfigError (exit 2) naming what was
 * searched.
 */
async function composePass(
  report: ValidateReport,
  inputs: readonly StackComposeInput[],
  mode: ComposeMode,
  config: Config,
): Promise<ValidateReport> {
  if (mode === 'off') return withCompose(report, new Map(), { command: null, skipped: '--no-compose' });
  // DOCKER_HOST for compose: a socket in here, which nothing creates (see noEngineEnv).
  const privateDir = await mkdtemp(join(tmpdir(), 'stackd-validate-'));
  try {
    const runner = createComposeRunner({
      command: config.compose.command,
      env: noEngineEnv(privateDir),
      // As `stackd plan`: pinned without touching dataDir/docker, nothing run from inside dataDir.
      pin: { untrusted: [config.dataDir] },
    });
    const found = await composeAvailability(runner);
    if (!found.available) {
      if (mode === 'on') {
        throw new ConfigError(
          `--compose: ${found.problem} (compose.command ${JSON.stringify(config.compose.command)}; --no-compose skips the compose check)`,
        );
      }
      return withCompose(report, new Map(), { command: null, skipped: found.problem });
    }
    const errors = await checkProjects(runner, inputs, {
      timeoutMs: config.reconcile.timeout,
      timeoutSetting: 'reconcile.timeout',
    });
    return withCompose(report, errors, { command: found.command, skipped: null });
  } finally {
    await rm(privateDir, { recursive: true, force: true });
  }
}

function withCompose(
  report: ValidateReport,
  errors: ReadonlyMap<string, string | null>,
  compose: ValidateCompose,
): ValidateReport {
  return {
    ...report,
    stacks: report.stacks.map((s) => ({ ...s, composeError: errors.get(s.id) ?? null })),
    compose,
  };
}

/**
 * The directory the stacks are searched under (`dir`, or `source.path` inside it); a usage error
 * (exit 2) naming the path when it does not exist or is not a directory: a mistyped path must not
 * pass CI as "no stacks, nothing invalid".
 */
async function stacksDirectory(dir: string, sourcePath: string): Promise<string> {
  await expectDirectory(dir, '');
  // The configuration refused a source.path leaving the repository (a ConfigError, exit 2).
  const root = normaliseRoot(sourcePath);
  if (root === '') return dir;
  const under = join(dir, root);
  await expectDirectory(under, ` (source.path ${JSON.stringify(sourcePath)})`);
  return under;
}

async function expectDirectory(path: string, what: string): Promise<void> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(path)).isDirectory();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const reason =
      code === 'ENOENT' || code === 'ENOTDIR'
        ? 'no such directory'
        : code === 'EACCES'
          ? 'permission denied'
          : (error as Error).message;
    throw new UsageError(`${path}: ${reason}${what}`);
  }
  if (!isDirectory) throw new UsageError(`${path}: not a directory${what}`);
}
