/** Keeps secrets out of log lines, error messages and API answers. */

/**
 * The user-info part of a URL: everything between `scheme://` and the last `@` before the host
 * ends (`/`, `?`, `#` or white space), so a password holding a raw `@` is removed whole.
 */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^/?#\s]*@/gi;

/** A bare login name (no `:`): the user of an `ssh://` URL, which carries no secret. */
const SSH_LOGIN = /^[A-Za-z0-9._-]+@$/;

/**
 * `https://user:token@host/repo` → `https://***@host/repo`. Only the user name of an `ssh://`
 * URL is kept (`ssh://git@host/r`: stackd refuses passwords in SSH URLs, and which user signs
 * in is what an operator needs to see); `ssh://git:pw@host` is still redacted.
 */
export function redactUrl(text: string): string {
  return text.replace(URL_USERINFO, (match: string, scheme: string) =>
    scheme.toLowerCase() === 'ssh://' && SSH_LOGIN.test(match.slice(scheme.length)) ? match : `${scheme}***@`,
  );
}

/** Replaces every known secret value and every credential in a URL by `***`. */
export class Redactor {
  /** Secret values, longest first so a secret that contains another is replaced whole. */
  #secrets: string[] = [];

  constructor(secrets: Iterable<string> = []) {
    for (const s of secrets) this.add(s);
  }

  add(secret: string): void {
    // Values shorter than 4 characters would blank out ordinary words ("on", "1"), so they are
    // not tracked; every real token or webhook secret is longer.
    if (secret.length < 4 || this.#secrets.includes(secret)) return;
    this.#secrets.push(secret);
    this.#secrets.sort((a, b) => b.length - a.length);
  }

  text(value: string): string {
    let out = redactUrl(value);
    for (const s of this.#secrets) out = out.split(s).join('***');
    return out;
  }

  /** Deep copy of a JSON-like value with every string redacted. */
  value(value: unknown, depth = 0): unknown {
    if (typeof value === 'string') return this.text(value);
    if (value === null || typeof value !== 'object') return value;
    if (value instanceof Error) return this.text(value.message);
    if (depth > 8) return this.#flattened(value);
    // Dates, URLs, Buffers…: what JSON.stringify would print, redacted.
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return this.value(toJSON.call(value) as unknown, depth + 1);
    if (Array.isArray(value)) return value.map((v: unknown) => this.value(v, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = this.value(v, depth + 1);
    return out;
  }

  /** A value nested too deep to walk: its JSON text, redacted (never the raw object). */
  #flattened(value: object): string {
    try {
      return this.text(JSON.stringify(value));
    } catch {
      return '[unserializable]';
    }
  }
}
