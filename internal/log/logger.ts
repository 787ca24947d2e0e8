/**
 * winston set-up: JSON lines (one event per line) or text for a terminal, redacted, with the
 * syslog priority prefix journald reads when stderr is the journal. `Logger` is the one logging
 * interface of stackd: every call names its `event` (see events.ts), or it does not type-check.
 */
import winston from 'winston';
import type { LogLevel, LogMeta } from './events.js';
import { priorityPrefix } from './journal.js';
import { Redactor } from './redact.js';

/** What stackd logs through: winston's logger, narrowed so that every line carries an `event`. */
export interface Logger {
  error(message: string, meta: LogMeta): unknown;
  warn(message: string, meta: LogMeta): unknown;
  info(message: string, meta: LogMeta): unknown;
  debug(message: string, meta: LogMeta): unknown;
  log(level: LogLevel, message: string, meta: LogMeta): unknown;
  /** A logger adding `fields` to each line. */
  child(fields: Readonly<Record<string, unknown>>): Logger;
}

/** `auto`: text when the stream is a terminal, JSON otherwise. */
export type LogFormat = 'auto' | 'json' | 'text';

export interface LoggerOptions {
  /** @default 'info' */
  readonly level?: string;
  /** @default 'json' */
  readonly format?: LogFormat;
  /** Values that must never appear in a line. */
  readonly secrets?: Iterable<string>;
  /** @default process.stderr */
  readonly stream?: NodeJS.WritableStream;
  /**
   * Start each line with its syslog priority (`<4>` for warn…), for journald's stream reader.
   * Only when the stream is the journal (see `isJournalStream`): anywhere else it is noise.
   * @default false
   */
  readonly journal?: boolean;
}

/** Keys winston itself sets; a secret equal to a level name must not rename the level. */
const OWN_KEYS = new Set(['level']);
/** Where winston's formats leave the finished line (triple-beam's MESSAGE). */
const MESSAGE = Symbol.for('message');

function redactFormat(redactor: Redactor): winston.Logform.Format {
  return winston.format((info) => {
    for (const key of Object.keys(info)) {
      if (!OWN_KEYS.has(key)) info[key] = redactor.value(info[key]);
    }
    return info;
  })();
}

/** `<N>` before every line of the finished text (a text line may hold a multi-line message). */
const priorityFormat = winston.format((info) => {
  const prefix = priorityPrefix(info.level);
  const line = (info as unknown as Record<symbol, unknown>)[MESSAGE];
  if (typeof line === 'string') {
    (info as unknown as Record<symbol, unknown>)[MESSAGE] = line
      .split('\n')
      .map((part) => `${prefix}${part}`)
      .join('\n');
  }
  return info;
});

const textLine = winston.format.printf((info) => {
  const { level, message, timestamp, event, ...rest } = info;
  const extra = Object.entries(rest)
    .filter(([k]) => typeof k === 'string')
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  const ev = typeof event === 'string' ? ` [${event}]` : '';
  return `${String(timestamp)} ${level}${ev} ${String(message)}${extra ? ` ${extra}` : ''}`;
});

/** `auto` → `text` on a terminal (`isTTY`), else `json`; `json` and `text` stay. */
export function resolveFormat(format: LogFormat, stream: NodeJS.WritableStream): 'json' | 'text' {
  if (format !== 'auto') return format;
  return (stream as { isTTY?: boolean }).isTTY === true ? 'text' : 'json';
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const redactor = new Redactor(options.secrets);
  const stream = options.stream ?? process.stderr;
  const format = resolveFormat(options.format ?? 'json', stream);
  return winston.createLogger({
    level: options.level ?? 'info',
    format: winston.format.combine(
      winston.format.errors({ stack: false }),
      redactFormat(redactor),
      winston.format.timestamp(),
      format === 'json' ? winston.format.json() : textLine,
      ...(options.journal === true ? [priorityFormat()] : []),
    ),
    // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- winston's typings declare transports as interfaces over TransportStream; at run time they are its subclasses
    transports: [new winston.transports.Stream({ stream })],
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
