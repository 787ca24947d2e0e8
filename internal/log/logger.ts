/** winston set-up: JSON lines (one event per line) or text for a terminal, redacted. */
import winston from 'winston';
import { Redactor } from './redact.js';

export type Logger = winston.Logger;

export interface LoggerOptions {
  /** @default 'info' */
  readonly level?: string;
  /** @default 'json' */
  readonly format?: 'json' | 'text';
  /** Values that must never appear in a line. */
  readonly secrets?: Iterable<string>;
  /** @default process.stderr */
  readonly stream?: NodeJS.WritableStream;
}

/** Keys winston itself sets; a secret equal to a level name must not rename the level. */
const OWN_KEYS = new Set(['level']);

function redactFormat(redactor: Redactor): winston.Logform.Format {
  return winston.format((info) => {
    for (const key of Object.keys(info)) {
      if (!OWN_KEYS.has(key)) info[key] = redactor.value(info[key]);
    }
    return info;
  })();
}

const textLine = winston.format.printf((info) => {
  const { level, message, timestamp, event, ...rest } = info;
  const extra = Object.entries(rest)
    .filter(([k]) => typeof k === 'string')
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  const ev = typeof event === 'string' ? ` [${event}]` : '';
  return `${String(timestamp)} ${level}${ev} ${String(message)}${extra ? ` ${extra}` : ''}`;
});

export function createLogger(options: LoggerOptions = {}): Logger {
  const redactor = new Redactor(options.secrets);
  const format = options.format ?? 'json';
  return winston.createLogger({
    level: options.level ?? 'info',
    format: winston.format.combine(
      winston.format.errors({ stack: false }),
      redactFormat(redactor),
      winston.format.timestamp(),
      format === 'json' ? winston.format.json() : textLine,
    ),
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- winston's typings declare transports as interfaces over TransportStream; at run time they are its subclasses
    transports: [new winston.transports.Stream({ stream: options.stream ?? process.stderr })],
  });
}

/** A logger that drops everything (tests, library use). */
export function silentLogger(): Logger {
  return winston.createLogger({
    silent: true,
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- winston's typings declare transports as interfaces over TransportStream; at run time they are its subclasses
    transports: [new winston.transports.Console({ silent: true })],
  });
}
