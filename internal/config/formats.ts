/** Custom convict formats: durations (`60s`, `3m`, `1h30m`, `0`), sizes, glob lists, strict booleans, secrets, hosts. */
import { readFileSync } from 'node:fs';
import { looksLikeSsh, parseSshUrl } from '../source/ssh_url.js';
import { isIP } from 'node:net';
import { parseAgeIdentities } from '../../pkg/sops/identities.js';

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

const SOURCE_EXPECTED =
  'expected an http(s):// or ssh:// Git URL, user@host:path (SSH), a file:// URL or a local path to a Git repository';

export const sourceUrlFormat = {
  name: 'source-url',
  validate(value: unknown): void {
    if (typeof value !== 'string' || value.trim() === '') {
      throw new TypeError(SOURCE_EXPECTED);
    }
    // `git@github.com:org/repo.git` (scp-like SSH) would otherwise be taken for a local path.
    if (looksLikeSsh(value)) {
      try {
        parseSshUrl(value);
      } catch (error) {
        throw new TypeError((error as Error).message, { cause: error });
      }
      return;
    }
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) && !/^(https?|file):\/\//i.test(value)) {
      throw new TypeError(SOURCE_EXPECTED);
    }
  },
};

const SOURCE_PATH_EXPECTED =
  'expected a directory inside the repository, relative to its root, such as stacks or apps/prod ("" for the root)';

/**
 * `source.path`: relative to the repository's root and inside it. An absolute path or a `..`
 * part (`../x`, `a/../../b`, even `a/../b`) is refused here, naming the key, rather than when the
 * source is built.
 */
export const sourcePathFormat = {
  name: 'source-path',
  validate(value: unknown): void {
    if (typeof value !== 'string') throw new TypeError(SOURCE_PATH_EXPECTED);
    if (value.startsWith('/')) throw new TypeError(`${SOURCE_PATH_EXPECTED}, got an absolute path`);
    if (value.split('/').includes('..')) {
      throw new TypeError(`${SOURCE_PATH_EXPECTED}, got a path with a \`..\` part`);
    }
  },
};

const COMPOSE_COMMAND_EXPECTED =
  'expected auto or a command line such as "docker compose" or /usr/local/bin/docker-compose';

/** `compose.command`: `auto` or a command line; empty or only blanks would run nothing. */
export const composeCommandFormat = {
  name: 'compose-command',
  validate(value: unknown): void {
    if (typeof value !== 'string') throw new TypeError(COMPOSE_COMMAND_EXPECTED);
    if (value.trim() === '') throw new TypeError(`${COMPOSE_COMMAND_EXPECTED}, got an empty value`);
  },
};

const SIZE_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};
const SIZE_EXPECTED = 'expected a size above 0 such as 16MiB, 512KiB, 1GiB or a number of bytes';

/** `16MiB` → 16777216; `1.5GB` → 1500000000; `4096` → 4096 (bytes); a JavaScript number is bytes. */
export function parseSize(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') throw new TypeError(SIZE_EXPECTED);
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  const unit = SIZE_UNITS[(match?.[2] ?? '').toLowerCase()];
  if (match === null || unit === undefined) throw new TypeError(SIZE_EXPECTED);
  return Math.round(Number(match[1]) * unit);
}

export const sizeFormat = {
  name: 'byte-size',
  validate(value: unknown): void {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
      throw new TypeError(SIZE_EXPECTED);
    }
  },
  coerce(value: unknown): unknown {
    try {
      return parseSize(value);
    } catch {
      return value;
    }
  },
};

export const positiveIntegerFormat = {
  name: 'positive-integer',
  validate(value: unknown): void {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
      throw new TypeError('expected a whole number from 1 and up');
    }
  },
  coerce(value: unknown): unknown {
    return typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  },
};

/** Shortest secret accepted: a guessable secret protects nothing. */
export const MIN_SECRET_LENGTH = 16;

/** A secret: empty (not set) or at least MIN_SECRET_LENGTH characters. The value never appears. */
export const secretFormat = {
  name: 'secret',
  validate(value: unknown): void {
    if (typeof value !== 'string') throw new TypeError('expected a string');
    if (value !== '' && value.length < MIN_SECRET_LENGTH) {
      throw new TypeError(
        `expected at least ${MIN_SECRET_LENGTH} characters, got ${value.length} (generate one with: openssl rand -hex 32)`,
      );
    }
  },
};

/**
 * `secrets.ageKeyFile`: empty (not set) or a readable age identity file. An empty file (what the
 * systemd unit's default credential is) means not set; a file that is not one is refused by line
 * number, its content never shown.
 */
export const ageKeyFileFormat = {
  name: 'age-key-file',
  validate(value: unknown): void {
    if (typeof value !== 'string') throw new TypeError('expected a path');
    if (value === '') return;
    let text: string;
    try {
      text = readFileSync(value, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new TypeError(
        `cannot read ${JSON.stringify(value)} (${code}): expected an age identity file (age-keygen -o FILE)`,
        { cause: error },
      );
    }
    try {
      parseAgeIdentities(text);
    } catch (error) {
      throw new TypeError(`${JSON.stringify(value)}: ${(error as Error).message}`, { cause: error });
    }
  },
};

const HOST_NAME =
  /^(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.?$/i;

/** A list of host names or IP addresses (comma-separated in the environment), no ports. */
export const hostListFormat = {
  name: 'host-list',
  validate(value: unknown): void {
    globListFormat.validate(value);
    for (const host of value as string[]) {
      const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
      if (!HOST_NAME.test(bare) && !isIP(bare)) {
        throw new TypeError(`expected host names or IP addresses without a port, got \`${host}\``);
      }
    }
  },
  coerce: (value: unknown): unknown => globListFormat.coerce(value),
};

/** A list of web origins, `scheme://host[:port]` (comma-separated in the environment). */
export const originListFormat = {
  name: 'origin-list',
  validate(value: unknown): void {
    globListFormat.validate(value);
    for (const origin of value as string[]) {
      let parsed: URL | undefined;
      try {
        parsed = new URL(origin);
      } catch {
        parsed = undefined;
      }
      if (
        parsed === undefined ||
        !/^https?:$/.test(parsed.protocol) ||
        parsed.origin !== origin.replace(/\/$/, '')
      ) {
        throw new TypeError(
          `expected origins such as https://grafana.example.com (scheme, host, optional port; no path), got \`${origin}\``,
        );
      }
    }
  },
  coerce: (value: unknown): unknown => globListFormat.coerce(value),
};
