/**
 * Logging: winston configured for JSON lines (one event per line, with an `event` field) or text,
 * the redaction that keeps tokens, secrets and credentials in URLs out of every line, and the
 * syslog priority prefix for journald.
 */
export {
  createLogger,
  resolveFormat,
  silentLogger,
  type LogFormat,
  type Logger,
  type LoggerOptions,
} from './logger.js';
export { Redactor, redactUrl } from './redact.js';
export { LogEvent, type LogEventName, type LogLevel, type LogMeta } from './events.js';
export { isJournalStream, parseJournalStream, priorityPrefix, SYSLOG_PRIORITY } from './journal.js';
