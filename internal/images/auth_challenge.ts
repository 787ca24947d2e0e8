/**
 * The `WWW-Authenticate` header of a registry's 401 (RFC 7235 challenges): `Bearer
 * realm="https://auth.example/token",service="registry.example",scope="repository:app:pull"` sends
 * the client to a token service first (distribution's token auth), `Basic realm="…"` wants the
 * login itself. Parsed leniently, as the docker CLI does: unknown schemes are kept and ignored.
 */

export interface AuthChallenge {
  /** The scheme in lower case: `bearer`, `basic`, or whatever else a server says. */
  readonly scheme: string;
  /** The parameters by lower-case name (`realm`, `service`, `scope`), values unquoted. */
  readonly params: ReadonlyMap<string, string>;
}

const PARAM = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s"=][^\s"]*)$/;
const SCHEME = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+)(?:\s+(.*))?$/s;

/** `header` cut at the commas outside quoted strings, each part trimmed, empty parts dropped. */
function items(header: string): string[] {
  const parts: string[] = [];
  let part = '';
  let quoted = false;
  for (let i = 0; i < header.length; i++) {
    const c = header.charAt(i);
    if (quoted && c === '\\') {
      part += c + header.charAt(i + 1);
      i++;
    } else if (c === '"') {
      quoted = !quoted;
      part += c;
    } else if (c === ',' && !quoted) {
      parts.push(part);
      part = '';
    } else {
      part += c;
    }
  }
  parts.push(part);
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

/** Every challenge of `header`, in order; parameters before any scheme and parts that do not parse are skipped. */
export function parseChallenges(header: string | null | undefined): AuthChallenge[] {
  const challenges: { scheme: string; params: Map<string, string> }[] = [];
  const addParam = (text: string): void => {
    const match = PARAM.exec(text);
    const current = challenges.at(-1);
    if (match === null || current === undefined) return;
    const raw = match[2] ?? '';
    const value = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
    current.params.set((match[1] ?? '').toLowerCase(), value);
  };
  for (const item of items(header ?? '')) {
    if (PARAM.test(item)) {
      addParam(item);
      continue;
    }
    const match = SCHEME.exec(item);
    if (match === null) continue;
    challenges.push({ scheme: (match[1] ?? '').toLowerCase(), params: new Map() });
    // The first parameter shares the scheme's part; a token68 (`Negotiate abc==`) is ignored.
    if (match[2] !== undefined) addParam(match[2].trim());
  }
  return challenges;
}
