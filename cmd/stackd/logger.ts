/**
 * The CLI's logger: the configured level and format (`auto`: text on a terminal, else JSON),
 * secrets redacted, to stderr; each line starts with its syslog priority (`<4>`…) when stderr is
 * the journal (JOURNAL_STREAM names it), so journald records the level as the line's PRIORITY.
 */
import type { Config } from '../../internal/config/index.js';
import { readRegistryAuth } from '../../internal/registry/index.js';
import { createLogger, isJournalStream, type LogFormat, type Logger } from '../../internal/log/index.js';
import type { Io } from './cli.js';

export interface LogSettings {
  /** @default 'info' */
  readonly level?: string;
  /** @default 'auto' */
  readonly format?: LogFormat;
  /** Values that must never appear in a line. @default none */
  readonly secrets?: Iterable<string>;
}

/** A logger to `io.stderr`; the journal is detected only when that is the process's own stderr (fd 2). */
export function stderrLogger(io: Io, settings: LogSettings = {}): Logger {
  return createLogger({
    level: settings.level ?? 'info',
    format: settings.format ?? 'auto',
    secrets: settings.secrets ?? [],
    stream: io.stderr,
    journal: io.stderr === process.stderr && isJournalStream(io.env, 2),
  });
}

/** The secrets of a configuration that a line must never show. */
export function secretsOf(config: Config): string[] {
  return [
    config.source.auth.token,
    config.server.token,
    config.webhook.secret,
    config.webhook.gitlabToken,
    config.webhook.registryToken,
    ...registrySecrets(config.registry.authFile),
  ].filter((s) => s !== '');
}

/** The passwords and tokens of `registry.authFile` (none when it cannot be read: loadConfig says so). */
function registrySecrets(file: string): readonly string[] {
  if (file === '') return [];
  try {
    return readRegistryAuth(file).secrets;
  } catch {
    return [];
  }
}

export function loggerFor(config: Config, io: Io, level?: string): Logger {
  return stderrLogger(io, {
    level: level ?? config.log.level,
    format: config.log.format,
    secrets: secretsOf(config),
  });
}
