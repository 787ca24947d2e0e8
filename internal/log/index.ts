/**
 * Logging: winston configured for JSON lines (one event per line, with an `event` field) or text,
 * and the redaction that keeps tokens, secrets and credentials in URLs out of every line.
 */
export { createLogger, silentLogger, type Logger, type LoggerOptions } from './logger.js';
export { Redactor, redactUrl } from './redact.js';
export { LogEvent, type LogEventName } from './events.js';
