/**
 * The last line of a command that died from an error (bad configuration or usage, port in use,
 * dataDir lock held, an unexpected exception), and its exit code. The line follows the log
 * format, so a log shipper reading stderr never meets a foreign line: under `json` (and `auto`
 * off a terminal) a JSON line with `level: error`, `event: daemon.fatal` (`stackd run`) or
 * `command.fatal`, the message, `command` and `exitCode`; under `text` `stackd <command>: message`.
 * Under the journal either gets the `<3>` priority prefix.
 *
 * The format is the one the configuration gives. When the configuration itself is what failed, it
 * is read as far as possible: `--log-format`, then `STACKD_LOG_FORMAT`, then `log.format` of the
 * `--config` file; a value that is none of auto/json/text counts as `auto`.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { load as loadYaml } from 'js-yaml';
import { loadConfig, CONFIG_FLAGS } from '../../internal/config/index.js';
import {
  LogEvent,
  type LogFormat,
  isJournalStream,
  priorityPrefix,
  resolveFormat,
} from '../../internal/log/index.js';
import { type Io, write } from './cli.js';
import { secretsOf, stderrLogger, type LogSettings } from './logger.js';

const FORMATS: readonly string[] = ['auto', 'json', 'text'];

/** The exit code of an error: its numeric `exitCode` (1–255) when it has one, else 1. */
export function exitCodeOf(error: unknown): number {
  const code = (error as { exitCode?: unknown } | null)?.exitCode;
  return typeof code === 'number' && Number.isInteger(code) && code >= 1 && code <= 255 ? code : 1;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function formatFrom(value: unknown): LogFormat | undefined {
  return typeof value === 'string' && FORMATS.includes(value) ? (value as LogFormat) : undefined;
}

/** `log.format` of a config file, if it can be read at all. */
function fileFormat(path: unknown): LogFormat | undefined {
  if (typeof path !== 'string') return undefined;
  try {
    const data = loadYaml(readFileSync(path, 'utf8')) as { log?: { format?: unknown } } | null;
    return formatFrom(data?.log?.format);
  } catch {
    return undefined;
  }
}

/** The log settings of `argv` and the environment, even when the configuration is invalid. */
export function fatalSettings(argv: readonly string[], io: Io): LogSettings {
  let flags: Record<string, string | boolean | undefined> = {};
  try {
    flags = parseArgs({
      args: [...argv],
      options: CONFIG_FLAGS,
      strict: false,
      allowPositionals: true,
    }).values;
  } catch {
    // keep no flags
  }
  try {
    const configFile = flags['config'];
    const config = loadConfig({
      flags,
      env: io.env,
      ...(typeof configFile === 'string' ? { configFile } : {}),
    });
    return { format: config.log.format, secrets: secretsOf(config) };
  } catch {
    const format =
      formatFrom(flags['log-format']) ??
      formatFrom(io.env['STACKD_LOG_FORMAT']) ??
      fileFormat(flags['config']);
    return { format: format ?? 'auto' };
  }
}

/** Writes the fatal line of `command` to stderr; returns the exit code. */
export function reportFatal(command: string, error: unknown, argv: readonly string[], io: Io): number {
  const exitCode = exitCodeOf(error);
  const message = messageOf(error);
  const settings = fatalSettings(argv, io);
  if (resolveFormat(settings.format ?? 'auto', io.stderr) === 'json') {
    stderrLogger(io, { ...settings, format: 'json' }).error(message, {
      event: command === 'run' ? LogEvent.daemonFatal : LogEvent.commandFatal,
      command,
      exitCode,
    });
  } else {
    const journal = io.stderr === process.stderr && isJournalStream(io.env, 2);
    const line = `stackd ${command}: ${message}`;
    write(
      io.stderr,
      journal
        ? line
            .split('\n')
            .map((l) => `${priorityPrefix('error')}${l}`)
            .join('\n')
        : line,
    );
  }
  return exitCode;
}
