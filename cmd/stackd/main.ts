#!/usr/bin/env node
/** stackd's entry point: picks the command, runs it, maps errors to exit codes. Wiring only. */
import { type Io, write } from './cli.js';
import { reportFatal } from './fatal.js';
type Command = (argv: readonly string[], io: Io) => Promise<number>;

/** Commands load their modules on use: `status` need not load Docker or Git clients. */
const lazy =
  <K extends string>(load: () => Promise<Record<K, Command>>, name: K): Command =>
  async (argv, io) =>
    (await load())[name](argv, io);

const runVersion = lazy(() => import('./commands/version.js'), 'runVersion');

const COMMANDS: Readonly<Record<string, { run: Command; summary: string }>> = {
  run: {
    run: lazy(() => import('./commands/run.js'), 'runDaemon'),
    summary: 'the daemon: poll, webhooks, reconcile, HTTP API and metrics',
  },
  sync: {
    run: lazy(() => import('./commands/sync.js'), 'runSync'),
    summary: '--once [ID...]: fetch, reconcile every stack (or those, forced) once; ID: ask the daemon',
  },
  plan: {
    run: lazy(() => import('./commands/plan.js'), 'runPlan'),
    summary: 'show what a pass would do to each stack, and why; changes nothing',
  },
  status: {
    run: lazy(() => import('./commands/status.js'), 'runStatus'),
    summary: "show a running daemon's stacks (--server URL, --watch)",
  },
  refresh: {
    run: lazy(() => import('./commands/refresh.js'), 'runRefresh'),
    summary: 'ask a running daemon to fetch now',
  },
  validate: {
    run: lazy(() => import('./commands/validate.js'), 'runValidate'),
    summary: 'check a local stacks checkout (no Docker), for CI',
  },
  config: {
    run: lazy(() => import('./commands/config.js'), 'runConfig'),
    summary: 'print the effective configuration (secrets redacted)',
  },
  version: { run: runVersion, summary: 'print the version' },
};

const USAGE = `Usage: stackd <command> [flags]

GitOps for Docker Compose stacks: keeps this host's compose stacks matching a Git repository.

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)}${c.summary}`)
  .join('\n')}

Common flags:
  --config FILE        YAML or JSON configuration file
  --source-url URL     Git repository (http(s)://, file:// or a local path)
  --branch NAME        branch to follow (default main)
  --data-dir DIR       state, Git objects and working trees (default /var/lib/stackd)
  --output text|json   output format (sync, plan, status, validate, config)

Configuration: defaults < --config file < STACKD_* environment < flags. See README.md.
Exit codes: 0 success, 1 a stack failed or is invalid, 2 bad configuration or usage.
`;

export async function main(argv: readonly string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    write(name === undefined ? io.stderr : io.stdout, USAGE);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') return runVersion(rest, io);
  const command = COMMANDS[name];
  if (command === undefined) {
    write(io.stderr, `stackd: unknown command ${JSON.stringify(name)}\n\n${USAGE}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    write(io.stdout, USAGE);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    // One last line in the log format (JSON under json), exit code from the error's `exitCode`.
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
