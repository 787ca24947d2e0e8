#!/usr/bin/env node
/** stackd's entry point: picks the command, runs it, maps errors to exit codes. Wiring only. */
import { type Io, write } from './cli.js';
import { reportFatal } from './fatal.js';
import { COMMANDS, type CommandName, EXIT_CODES, commandHelp, commonFlags, isCommand } from './spec.js';
type Command = (argv: readonly string[], io: Io) => Promise<number>;

/** Commands load their modules on use: `status` need not load Docker or Git clients. */
const lazy =
  <K extends string>(load: () => Promise<Record<K, Command>>, name: K): Command =>
  async (argv, io) =>
    (await load())[name](argv, io);

const runVersion = lazy(() => import('./commands/version.js'), 'runVersion');

/** How each command runs: its module is loaded on use. What each says and takes is in spec.ts. */
const RUNNERS: Readonly<Record<CommandName, Command>> = {
  run: lazy(() => import('./commands/run.js'), 'runDaemon'),
  sync: lazy(() => import('./commands/sync.js'), 'runSync'),
  plan: lazy(() => import('./commands/plan.js'), 'runPlan'),
  status: lazy(() => import('./commands/status.js'), 'runStatus'),
  refresh: lazy(() => import('./commands/refresh.js'), 'runRefresh'),
  pause: lazy(() => import('./commands/pause.js'), 'runPause'),
  resume: lazy(() => import('./commands/pause.js'), 'runResume'),
  suspend: lazy(() => import('./commands/pause.js'), 'runSuspend'),
  validate: lazy(() => import('./commands/validate.js'), 'runValidate'),
  config: lazy(() => import('./commands/config.js'), 'runConfig'),
  version: runVersion,
};

const USAGE = `Usage: stackd <command> [flags]

GitOps for Docker Compose stacks: keeps this host's compose stacks matching a Git repository.

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)}${c.summary}`)
  .join('\n')}

Common flags:
${commonFlags()}

\`stackd <command> --help\` lists a command's flags, every configuration flag among them.
Configuration: defaults < --config file < STACKD_* environment < flags. See README.md.
${EXIT_CODES}
`;

export async function main(argv: readonly string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    write(name === undefined ? io.stderr : io.stdout, USAGE);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') return runVersion(rest, io);
  if (!isCommand(name)) {
    write(io.stderr, `stackd: unknown command ${JSON.stringify(name)}\n\n${USAGE}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    write(io.stdout, commandHelp(name));
    return 0;
  }
  try {
    return await RUNNERS[name](rest, io);
  } catch (error) {
    // One last line in the log format (JSON under json), exit code from the error's `exitCode`
    // (usage and configuration 2, daemon unreachable 4, port or dataDir in use 5), else 1.
    return reportFatal(name, error, rest, io);
  }
}

const io: Io = { stdout: process.stdout, stderr: process.stderr, env: process.env };
main(process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`stackd: ${(error as Error).message}\n`);
    process.exitCode = 1;
  },
);
