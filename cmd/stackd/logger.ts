/** The CLI's logger: the configured level and format, secrets redacted, to stderr. */
import type { Config } from '../../internal/config/index.js';
import { createLogger, type Logger } from '../../internal/log/index.js';
import type { Io } from './cli.js';

export function loggerFor(config: Config, io: Io, level?: string): Logger {
  return createLogger({
    level: level ?? config.log.level,
    format: config.log.format,
    secrets: [config.source.auth.token, config.server.token, config.webhook.secret].filter((s) => s !== ''),
    stream: io.stderr,
  });
}
