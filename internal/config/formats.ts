/** Custom convict formats: durations (`60s`, `3m`, `1h30m`, `0`), glob lists, strict booleans. */

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const BARE_NUMBER = /^\d+(?:\.\d+)?$/;
const DURATION_EXPECTED = 'expected a duration such as 60s, 3m, 1h30m, 250ms or 0';
/** Node timers cannot wait longer than 2^31-1 ms (~24.8 days); a longer delay fires at once. */
export const MAX_DURATION_MS = 2 ** 31 - 1;

/**
 * Parses a duration into milliseconds. Text is `60s`, `3m`, `1h30m`, `250ms`, `0`, or a bare
 * number of seconds (`"90"`, as systemd reads it); a JavaScript number is already milliseconds.
 */
export function parseDuration(value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  if (typeof value !== 'string') throw new TypeError(DURATION_EXPECTED);
  const text = value.trim();
  if (BARE_NUMBER.test(text)) return Math.round(Number(text) * 1000);
  if (!DURATION.test(text)) throw new TypeError(DURATION_EXPECTED);
  let total = 0;
  for (const match of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
    total += Number(match[1]) * (UNIT_MS[match[2] ?? 's'] ?? 1000);
  }
  return Math.round(total);
}

/** Formats milliseconds back into the shortest readable duration (`90000` → `1m30s`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0';
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  if (rest > 0) parts.push(`${rest}ms`);
  return parts.join('');
}

export const durationFormat = {
  name: 'stackd-duration',
  validate(value: unknown): void {
    if (value === '') throw new TypeError(`${DURATION_EXPECTED}, got an empty value`);
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new TypeError(DURATION_EXPECTED);
    }
    if (value > MAX_DURATION_MS) {
      throw new TypeError(`expected a duration of at most ${formatDuration(MAX_DURATION_MS)} (~24 days)`);
    }
  },
  coerce(value: unknown): unknown {
    try {
      return parseDuration(value);
    } catch {
      return value;
    }
  },
};

/** A duration that must be above zero (timeouts: `0` would fail every fetch or apply). */
export const positiveDurationFormat = {
  name: 'positive-duration',
  validate(value: unknown): void {
    durationFormat.validate(value);
    if (value === 0) throw new TypeError('expected a duration above 0 such as 60s or 3m');
  },
  coerce: (value: unknown): unknown => durationFormat.coerce(value),
};

const TRUE_WORDS = new Set(['true', 'yes', 'on', '1']);
const FALSE_WORDS = new Set(['false', 'no', 'off', '0']);
const BOOLEAN_EXPECTED = 'expected true or false (also yes/no, on/off, 1/0)';

/**
 * Booleans that only accept what they mean: convict's own Boolean turns every string but "false"
 * into `true`, so `STACKD_RECONCILE_PRUNE=0` would switch pruning on.
 */
export const booleanFormat = {
  name: 'stackd-boolean',
  validate(value: unknown): void {
    if (value === '') throw new TypeError(`${BOOLEAN_EXPECTED}, got an empty value`);
    if (typeof value !== 'boolean') throw new TypeError(BOOLEAN_EXPECTED);
  },
  coerce(value: unknown): unknown {
    if (typeof value !== 'string') return value;
    const word = value.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
    return value;
  },
};

export const globListFormat = {
  name: 'glob-list',
  validate(value: unknown): void {
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && v.length > 0)) {
      throw new TypeError('expected a list of globs (comma-separated in the environment)');
    }
  },
  coerce(value: unknown): unknown {
    if (typeof value !== 'string') return value;
    return value
      .split(',')
      .map((v) => v.trim())
      .filter((v) => v.length > 0);
  },
};

const LISTEN_EXPECTED = 'expected HOST:PORT such as 127.0.0.1:8700 or [::1]:8700';

export const listenFormat = {
  name: 'listen-address',
  validate(value: unknown): void {
    if (value === '') throw new TypeError(`${LISTEN_EXPECTED}, got an empty value`);
    if (typeof value !== 'string' || parseListen(value) === undefined) {
      throw new TypeError(LISTEN_EXPECTED);
    }
  },
};

/** `127.0.0.1:8700` → `{ host, port }`; `[::1]:8700` → host `::1`; `:8700` → host `` (every address). */
export function parseListen(value: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(value);
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port > 65535) return undefined;
  return { host: match[1] ?? match[2] ?? '', port };
}

const SOURCE_EXPECTED = 'expected an http(s):// Git URL, a file:// URL or a local path to a Git repository';

export const sourceUrlFormat = {
  name: 'source-url',
  validate(value: unknown): void {
    if (typeof value !== 'string' || value.trim() === '') {
      throw new TypeError(SOURCE_EXPECTED);
    }
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) && !/^(https?|file):\/\//i.test(value)) {
      throw new TypeError(SOURCE_EXPECTED);
    }
    // `git@github.com:org/repo.git` (scp-like SSH) would otherwise be taken for a local path.
    if (/^[^/\\:@]+@[^/\\:]+:/.test(value)) {
      throw new TypeError(`${SOURCE_EXPECTED} (SSH remotes are not supported)`);
    }
  },
};
