/**
 * `stackd validate [DIR] [--output json]`: check a stacks checkout without Docker, for users' CI.
 * Exit 1 when a stack is invalid or when there is no stack at all; a compose file directly at
 * `source.path` (which deploys nothing) is named on stderr with how to move it.
 */
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  COMPOSE_FILE_NAMES,
  formatValidateReport,
  rootComposeMessage,
  stackLimitsOf,
  validateDirectory,
} from '../../../internal/source/index.js';
import { normaliseRoot } from '../../../internal/source/snapshot.js';
import { type Io, UsageError, configFrom, outputOf, parseCommand, write } from '../cli.js';

export async function runValidate(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand('validate', argv);
  if (positionals.length > 1) throw new UsageError(`validate takes one directory, got ${positionals.length}`);
  const output = outputOf(values);
  const config = configFrom(values, io);
  const dir = resolve(positionals[0] ?? '.');
  const under = await stacksDirectory(dir, config.source.path);
  const include = [...config.scope.include];
  const exclude = [...config.scope.exclude];
  const report = await validateDirectory(dir, {
    path: config.source.path,
    include,
    exclude,
    limits: stackLimitsOf(config.source),
  });
  write(io.stdout, output === 'json' ? JSON.stringify(report, null, 2) : formatValidateReport(report));
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
  return report.stacks.some((s) => s.error !== null) ? 1 : 0;
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
