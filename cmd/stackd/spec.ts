/**
 * Every command's contract in one place: its summary, usage, what it does, and its own flags with
 * their help. `parse` reads the flags from here, `stackd <command> --help` prints them, and the
 * configuration flags come from the schema (internal/config): nothing is declared twice.
 */
import { CONFIG_FLAG_HELP } from '../../internal/config/index.js';

/** One flag of a command: how `parseArgs` reads it and what `--help` says of it. */
export interface FlagSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** The value's placeholder in the help (`URL`); string flags only. */
  readonly value?: string;
  readonly doc: string;
}

export interface CommandSpec {
  readonly summary: string;
  /** What follows `stackd <command>` in the usage line. */
  readonly usage: string;
  /** A few lines on what it does, its output and its exit codes. */
  readonly about: string;
  readonly flags: Readonly<Record<string, FlagSpec>>;
  /**
   * Which configuration flags apply: all (`true`), none (`false`), or the ones listed (a client
   * of the daemon reads only where it listens, its token and how to log).
   */
  readonly config: boolean | readonly string[];
  readonly positionals: boolean;
}

const OUTPUT: FlagSpec = {
  type: 'string',
  short: 'o',
  value: 'text|json',
  doc: 'output format (default text)',
};
const SERVER: FlagSpec = {
  type: 'string',
  value: 'URL',
  doc: "the daemon's API (default: http://<server.listen>, 127.0.0.1:8700)",
};

/** How the client commands authenticate, said once in their help. */
const TOKEN_NOTE =
  'The API token is server.token (STACKD_API_TOKEN, STACKD_API_TOKEN_FILE), else /etc/stackd/api-token when readable.';

export const EXIT_CODES = `Exit codes: 0 success; 1 a stack failed or is invalid; 2 bad configuration or usage;
3 the source cannot be fetched; 4 the daemon cannot be reached; 5 cannot start: the port or the
data directory is in use.`;

/** What a client of the running daemon reads from the configuration (besides `--config`). */
const CLIENT_CONFIG = ['listen', 'log-level', 'log-format'] as const;

export const COMMANDS = {
  run: {
    summary: 'the daemon: poll, webhooks, reconcile, HTTP API and metrics',
    usage: '[flags]',
    about: 'Runs until SIGTERM or SIGINT, then lets the running compose finish and saves its state.',
    flags: {},
    config: true,
    positionals: false,
  },
  sync: {
    summary: 'ID: ask the daemon to reconcile one stack now; --once [ID...]: one pass here',
    usage: 'ID [--prune] [--server URL] | --once [ID...] [flags]',
    about: `ID: the running daemon reconciles the stack now, even if it looks in sync or its commit
failed before; with --prune, a stack gone from Git is removed this once even with
reconcile.prune off. --once: fetch and reconcile every stack (or the ones named, forced) in this
process, print the stack table, exit 1 if any failed, 3 if the fetch failed.`,
    flags: {
      once: { type: 'boolean', doc: 'one pass in this process instead of asking the daemon' },
      prune: {
        type: 'boolean',
        doc: 'with ID: remove the stack this once if it is gone from Git (even with reconcile.prune off); with --once: reconcile.prune for this pass',
      },
      server: SERVER,
      output: OUTPUT,
    },
    config: true,
    positionals: true,
  },
  plan: {
    summary: 'show what a pass would do to each stack, and why; changes nothing',
    usage: '[flags]',
    about: 'Fetches, looks at the engine, prints per stack the action a pass would take. Writes nothing.',
    flags: { output: OUTPUT },
    config: true,
    positionals: false,
  },
  status: {
    summary: "show a running daemon's stacks, or one stack in detail (ID)",
    usage: '[ID] [--watch] [--server URL] [--output text|json]',
    about: `Without ID: the source line (when fetches fail) and the stack table. With ID: the stack's
message, revisions, services (state, health, restarts) and history. Exit 3 when the source
cannot be fetched, 1 when a stack shown is failed. --watch redraws every 2 s and keeps
trying while the daemon is unreachable (a restart, say).
${TOKEN_NOTE}`,
    flags: {
      watch: { type: 'boolean', short: 'w', doc: 'redraw every 2 s until interrupted' },
      server: SERVER,
      output: OUTPUT,
    },
    config: CLIENT_CONFIG,
    positionals: true,
  },
  refresh: {
    summary: 'ask a running daemon to fetch now',
    usage: '[--server URL]',
    about: `The daemon answers at once and fetches in the background (stackd status shows the outcome).
${TOKEN_NOTE}`,
    flags: { server: SERVER },
    config: CLIENT_CONFIG,
    positionals: false,
  },
  pause: {
    summary: 'ask a running daemon to stop applying changes (kept across restarts)',
    usage: '[--server URL]',
    about: `Reconciliation is paused: stacks are still observed and reported (out_of_sync when they
differ), nothing is applied or removed until stackd resume.
${TOKEN_NOTE}`,
    flags: { server: SERVER },
    config: CLIENT_CONFIG,
    positionals: false,
  },
  resume: {
    summary: 'ask a running daemon to apply changes again (ID: resume one suspended stack)',
    usage: '[ID] [--server URL]',
    about: `Without ID: reconciliation resumes and every stack is looked at once. With ID: the stack's
suspension through the API (stackd suspend) ends and it is reconciled now, applying what changed
meanwhile; a suspension in its compose file (x-stackd.suspend) stays until the file drops it.
${TOKEN_NOTE}`,
    flags: { server: SERVER },
    config: CLIENT_CONFIG,
    positionals: true,
  },
  suspend: {
    summary: 'ask a running daemon to leave one stack alone (kept across restarts)',
    usage: 'ID [--reason TEXT] [--server URL]',
    about: `Nothing is applied to the stack or removed, self-heal is off (containers stopped by hand
stay stopped); it reads out_of_sync with the reason while Git and the host differ, until
stackd resume ID.
${TOKEN_NOTE}`,
    flags: {
      reason: { type: 'string', value: 'TEXT', doc: 'why, shown in stackd status and the API' },
      server: SERVER,
    },
    config: CLIENT_CONFIG,
    positionals: true,
  },
  validate: {
    summary: 'check a local stacks checkout (no Docker engine), for CI',
    usage: '[DIR] [--compose | --no-compose] [flags]',
    about: `Discovers, parses and hashes the stacks under DIR (default .) as the daemon would, then
runs \`compose config -q\` on each stack that passed (its compose files, --project-directory the
stack directory, --env-file its .env, -p its project; no engine is contacted), when
compose.command finds a compose; if none is found it says so and skips that check.
Exit 1 if a stack is invalid or compose rejects it (--output json: composeError), or none is found.`,
    flags: {
      compose: {
        type: 'boolean',
        doc: 'require the compose check: exit 2 if compose.command finds no compose (default: run it when found); --no-compose skips it',
      },
      output: OUTPUT,
    },
    config: true,
    positionals: true,
  },
  config: {
    summary: 'print the effective configuration (secrets redacted)',
    usage: '[flags]',
    about: 'Defaults < --config file < STACKD_* environment < flags, as `stackd run` would see them.',
    flags: { output: OUTPUT },
    config: true,
    positionals: false,
  },
  version: {
    summary: 'print the version',
    usage: '',
    about: '',
    flags: {},
    config: false,
    positionals: false,
  },
} as const satisfies Readonly<Record<string, CommandSpec>>;

export type CommandName = keyof typeof COMMANDS;

/** The configuration flags command `spec` takes (`--config` included when it takes any). */
export function configFlagsOf(spec: CommandSpec): readonly string[] {
  if (spec.config === false) return [];
  const all = ['config', ...CONFIG_FLAG_HELP.map((f) => f.flag)];
  return spec.config === true
    ? all
    : all.filter((f) => f === 'config' || (spec.config as readonly string[]).includes(f));
}

export const isCommand = (name: string): name is CommandName => Object.hasOwn(COMMANDS, name);

/** `--flag VALUE` (or `-s, --flag`) and its doc, aligned. */
function flagLines(entries: readonly (readonly [string, string])[]): string {
  const width = Math.min(28, Math.max(...entries.map(([left]) => left.length)) + 2);
  return entries
    .map(
      ([left, doc]) =>
        `  ${left.padEnd(width)}${left.length >= width ? `\n  ${' '.repeat(width)}` : ''}${doc}`,
    )
    .join('\n');
}

/** The flags most commands take, for `stackd --help`: from the schema and the specs above. */
export function commonFlags(): string {
  const config = CONFIG_FLAG_HELP.filter((f) => ['source-url', 'branch', 'data-dir'].includes(f.flag));
  return flagLines([
    ['--config FILE', 'YAML or JSON configuration file'],
    ...config.map((f): [string, string] => [`--${f.flag} VALUE`, f.doc]),
    [`-o, --output ${OUTPUT.value ?? ''}`, `${OUTPUT.doc} (sync, plan, status, validate, config)`],
  ]);
}

/** `stackd <name> --help`. */
export function commandHelp(name: CommandName): string {
  const spec: CommandSpec = COMMANDS[name];
  const own = Object.entries(spec.flags).map(([flag, f]): [string, string] => [
    `${f.short === undefined ? '' : `-${f.short}, `}--${flag}${f.type === 'string' ? ` ${f.value ?? 'VALUE'}` : ''}`,
    f.doc,
  ]);
  const taken = configFlagsOf(spec);
  const config: [string, string][] =
    taken.length === 0
      ? []
      : [
          ['--config FILE', 'YAML or JSON configuration file'],
          ...CONFIG_FLAG_HELP.filter((f) => taken.includes(f.flag) && !Object.hasOwn(spec.flags, f.flag)).map(
            (f): [string, string] => [
              `--${f.flag}${f.boolean ? `, --no-${f.flag}` : ' VALUE'}`,
              `${f.doc} (${f.key}${f.env === undefined ? '' : `, ${f.env}`})`,
            ],
          ),
        ];
  return [
    `Usage: stackd ${name}${spec.usage === '' ? '' : ` ${spec.usage}`}`,
    '',
    spec.summary.charAt(0).toUpperCase() + spec.summary.slice(1) + '.',
    ...(spec.about === '' ? [] : ['', spec.about]),
    ...(own.length === 0 ? [] : ['', 'Flags:', flagLines(own)]),
    ...(config.length === 0
      ? []
      : [
          '',
          'Configuration flags (defaults < --config file < STACKD_* environment < flags;',
          'boolean flags also take --flag=true|false):',
          flagLines(config),
        ]),
    '',
    EXIT_CODES,
    '',
  ].join('\n');
}
