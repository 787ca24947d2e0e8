/**
 * The formats of `notify.*` and `scm.*` (issue 15). `notify.targets` is a list of mappings in the
 * config file, or JSON in STACKD_NOTIFY_TARGETS; its problems are named by index and key, never by
 * value (a target's URL may hold a token: the key is `sensitive`, so convict does not echo it).
 */
import { NOTIFY_EVENTS, TARGET_TYPES } from '../feedback/types.js';
import { globListFormat } from './formats.js';

/** What one entry of `notify.targets` is, as written (secrets still in their files). */
export interface NotifyTargetConfig {
  readonly name: string;
  readonly type: (typeof TARGET_TYPES)[number];
  readonly url?: string;
  /** A file holding the URL (Slack and Discord webhook URLs are secrets themselves). */
  readonly urlFile?: string;
  /** A file holding the target's secret (webhook HMAC key, ntfy access token, Gotify app token). */
  readonly secretFile?: string;
  /** A systemd credential holding the secret: `$CREDENTIALS_DIRECTORY/<credential>`. */
  readonly credential?: string;
  readonly events?: readonly (typeof NOTIFY_EVENTS)[number][];
}

const TARGET_KEYS = ['name', 'type', 'url', 'urlFile', 'secretFile', 'credential', 'events'];
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

function checkEvents(value: unknown, where: string): void {
  if (!Array.isArray(value) || value.length === 0)
    throw new TypeError(`${where}: expected a non-empty list of ${NOTIFY_EVENTS.join(', ')}`);
  for (const event of value)
    if (!(NOTIFY_EVENTS as readonly unknown[]).includes(event))
      throw new TypeError(
        `${where}: unknown event ${typeof event === 'string' ? JSON.stringify(event.slice(0, 40)) : typeof event} (known: ${NOTIFY_EVENTS.join(', ')})`,
      );
}

/** Throws a TypeError naming the first problem of `value` as a list of targets. */
export function checkNotifyTargets(value: unknown): asserts value is NotifyTargetConfig[] {
  if (!Array.isArray(value)) throw new TypeError('expected a list of targets (JSON in the environment)');
  const names = new Set<string>();
  value.forEach((raw: unknown, i) => {
    const at = `targets[${i}]`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      throw new TypeError(`${at}: expected a mapping with name, type and url (or urlFile)`);
    const t = raw as Record<string, unknown>;
    for (const key of Object.keys(t))
      if (!TARGET_KEYS.includes(key))
        throw new TypeError(
          `${at}: unknown key ${JSON.stringify(key.slice(0, 40))} (known: ${TARGET_KEYS.join(', ')})`,
        );
    if (typeof t['name'] !== 'string' || !NAME.test(t['name']))
      throw new TypeError(
        `${at}.name: expected 1-63 letters, digits, ".", "_" or "-" (it names the target in logs and metrics)`,
      );
    if (names.has(t['name']))
      throw new TypeError(`${at}.name: ${t['name']} is the name of another target too`);
    names.add(t['name']);
    if (!(TARGET_TYPES as readonly unknown[]).includes(t['type']))
      throw new TypeError(`${at}.type: expected one of ${TARGET_TYPES.join(', ')}`);
    const hasUrl = t['url'] !== undefined;
    if (hasUrl === (t['urlFile'] !== undefined))
      throw new TypeError(`${at}: expected exactly one of url and urlFile`);
    if (hasUrl && (typeof t['url'] !== 'string' || !isHttpUrl(t['url'])))
      throw new TypeError(`${at}.url: expected an http:// or https:// URL`);
    for (const key of ['urlFile', 'secretFile', 'credential'])
      if (t[key] !== undefined && (typeof t[key] !== 'string' || t[key] === ''))
        throw new TypeError(`${at}.${key}: expected a non-empty string`);
    if (t['secretFile'] !== undefined && t['credential'] !== undefined)
      throw new TypeError(`${at}: expected at most one of secretFile and credential`);
    if (typeof t['credential'] === 'string' && !NAME.test(t['credential']))
      throw new TypeError(
        `${at}.credential: expected a systemd credential name (letters, digits, ".", "_", "-")`,
      );
    if (t['events'] !== undefined) checkEvents(t['events'], `${at}.events`);
  });
}

export const notifyTargetsFormat = {
  name: 'notify-targets',
  validate: (value: unknown): void => {
    checkNotifyTargets(value);
  },
  coerce(value: unknown): unknown {
    if (typeof value !== 'string') return value;
    if (value.trim() === '') return [];
    try {
      return JSON.parse(value) as unknown;
    } catch {
      return 'not JSON';
    }
  },
};

export const notifyEventsFormat = {
  name: 'notify-events',
  validate: (value: unknown): void => {
    checkEvents(value, 'events');
  },
  // A comma list in the environment, as the glob lists are.
  coerce: (value: unknown): unknown => globListFormat.coerce(value),
};

/** `scm.url`: empty (derived from source.url) or an http(s) URL. */
export const httpUrlOrEmptyFormat = {
  name: 'http-url-or-empty',
  validate(value: unknown): void {
    if (value === '') return;
    if (typeof value !== 'string' || !isHttpUrl(value))
      throw new TypeError('expected an http:// or https:// URL');
  },
};

/** `source.webUrl`: empty, or an http(s) URL without credentials (it is shown on the status page). */
export const webUrlOrEmptyFormat = {
  name: 'web-url-or-empty',
  validate(value: unknown): void {
    httpUrlOrEmptyFormat.validate(value);
    if (value === '') return;
    const url = new URL(value as string);
    if (url.username !== '' || url.password !== '')
      throw new TypeError('expected a URL without credentials (it is shown on the status page)');
  },
};

/** `scm.repository`: empty (derived from source.url) or `owner/repo` (GitLab: `group/sub/project`). */
export const repositoryFormat = {
  name: 'scm-repository',
  validate(value: unknown): void {
    if (value === '') return;
    if (typeof value !== 'string' || !/^[\w.-]+(\/[\w.-]+)+$/.test(value))
      throw new TypeError('expected owner/repo (GitLab: group/subgroup/project)');
  },
};
