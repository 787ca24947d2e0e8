/**
 * `registry.authFile`: the registry logins compose pulls with, in Docker's own config.json shape
 * (`{"auths": {"REGISTRY": {"auth": "<base64 of user:password>"}}}`, what `docker login` writes),
 * so a login tested with `docker login` is copied as it is; YAML is read too, and an entry may
 * spell the credentials out (`username` and `password`) instead of `auth`.
 *
 * Nothing here ever puts a credential into an error message: a bad file is described by where it
 * is wrong (the registry, the key, a line and column), never by its content.
 */
import { readFileSync } from 'node:fs';
import { loadAll as loadYamlDocuments } from 'js-yaml';

/** One registry's login, as written into `<dataDir>/docker/config.json`. */
export interface RegistryLogin {
  /** Base64 of `username:password` (the docker CLI's and docker-py's `auth`). */
  readonly auth: string;
  /** An OAuth identity token some registries hand out at `docker login`; kept as it is. */
  readonly identitytoken?: string;
}

export interface RegistryLogins {
  /** The file they were read from (for messages). */
  readonly file: string;
  /** By registry, as the file names it (`localhost:5000`, `https://index.docker.io/v1/`). */
  readonly logins: ReadonlyMap<string, RegistryLogin>;
  /** Every password, token and `auth` value of the file: what no log line may show. */
  readonly secrets: readonly string[];
}

/** The auth file cannot be read or does not say what it must; `message` names the file. */
export class RegistryAuthError extends Error {
  override readonly name = 'RegistryAuthError';
}

/** Keys of an entry that the docker CLI writes or reads and stackd does not need. */
const IGNORED_ENTRY_KEYS = new Set(['email', 'serveraddress']);
const ENTRY_KEYS = ['auth', 'username', 'password', 'identitytoken', ...IGNORED_ENTRY_KEYS];
/** Top-level keys naming a credential helper: the logins are then not in the file at all. */
const HELPER_KEYS = ['credsStore', 'credHelpers'];
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const FORMAT =
  'expected Docker\'s config.json format: {"auths": {"REGISTRY": {"auth": "<base64 of user:password>"}}} or {"username": …, "password": …} in place of "auth"';

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function kindOf(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  return `a ${typeof value}`;
}

/**
 * Parses the text of an auth file. An empty file (or only white space, like systemd's default
 * credential of one newline) holds no logins. JSON when it starts with `{`, else YAML.
 */
export function parseRegistryAuth(text: string, file: string): RegistryLogins {
  const fail = (what: string): never => {
    throw new RegistryAuthError(`registry auth file ${file}: ${what}`);
  };
  if (text.trim() === '') return { file, logins: new Map(), secrets: [] };
  let data: unknown;
  if (text.trimStart().startsWith('{')) {
    try {
      data = JSON.parse(text) as unknown;
    } catch (error) {
      // V8 quotes the text around the error: only its position is kept.
      const at = /position (\d+)/.exec((error as Error).message)?.[1];
      fail(`not valid JSON${at === undefined ? '' : ` (at character ${at})`}; ${FORMAT}`);
    }
  } else {
    try {
      const documents = loadYamlDocuments(text, { json: true });
      if (documents.length > 1) fail(`expected one YAML document, got ${documents.length}`);
      data = documents[0];
    } catch (error) {
      if (error instanceof RegistryAuthError) throw error;
      // js-yaml's message shows the offending line: only its reason and place are kept.
      const { reason, mark } = error as { reason?: string; mark?: { line: number; column: number } };
      fail(
        `not valid YAML${mark === undefined ? '' : ` (line ${mark.line + 1}, column ${mark.column + 1}${reason === undefined ? '' : `: ${reason}`})`}; ${FORMAT}`,
      );
    }
  }
  if (data === null || data === undefined) return { file, logins: new Map(), secrets: [] };
  if (!isMapping(data)) return fail(`expected a mapping with "auths", got ${kindOf(data)}; ${FORMAT}`);
  for (const key of HELPER_KEYS) {
    if (Object.hasOwn(data, key)) {
      fail(
        `"${key}" names a credential helper, which keeps the passwords outside this file: stackd passes on only the logins written in "auths" (run docker login with a DOCKER_CONFIG whose config.json has no "${key}", and copy that file)`,
      );
    }
  }
  const auths = data['auths'];
  if (auths === undefined || auths === null) {
    if (Object.keys(data).length === 0) return { file, logins: new Map(), secrets: [] };
    return fail(`no "auths" mapping; ${FORMAT}`);
  }
  if (!isMapping(auths)) return fail(`"auths": expected a mapping of registries, got ${kindOf(auths)}`);
  const logins = new Map<string, RegistryLogin>();
  const secrets: string[] = [];
  for (const [registry, entry] of Object.entries(auths)) {
    const where = `auths.${JSON.stringify(registry)}`;
    if (registry.trim() === '' || /\s/.test(registry)) {
      fail(`auths: a registry name ${registry.trim() === '' ? 'is empty' : 'holds white space'}`);
    }
    if (!isMapping(entry)) {
      fail(`${where}: expected a mapping with "auth" or "username" and "password", got ${kindOf(entry)}`);
    }
    const login = entryLogin(entry as Record<string, unknown>, where, fail);
    logins.set(registry, login.login);
    secrets.push(...login.secrets);
  }
  return { file, logins, secrets };
}

function entryLogin(
  entry: Record<string, unknown>,
  where: string,
  fail: (what: string) => never,
): { login: RegistryLogin; secrets: string[] } {
  for (const key of Object.keys(entry)) {
    if (!ENTRY_KEYS.includes(key)) {
      fail(
        `${where}: unknown key ${JSON.stringify(key)}: expected "auth" or "username" and "password" (and optionally "identitytoken")`,
      );
    }
  }
  const text = (key: string): string | undefined => {
    const value = entry[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') return fail(`${where}.${key}: expected a string, got ${kindOf(value)}`);
    return value;
  };
  const auth = text('auth');
  const username = text('username');
  const password = text('password');
  const identitytoken = text('identitytoken');
  const secrets: string[] = [];
  let user: string;
  let pass: string;
  if (auth !== undefined && auth !== '') {
    if (username !== undefined || password !== undefined) {
      fail(`${where}: give either "auth" or "username" and "password", not both`);
    }
    const compact = auth.replace(/\s+/g, '');
    if (!BASE64.test(compact) || compact.length % 4 === 1) {
      fail(`${where}.auth: not base64 (expected the base64 of user:password, as docker login writes it)`);
    }
    const decoded = Buffer.from(compact, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon === -1)
      fail(`${where}.auth: the decoded value has no ":" (expected the base64 of user:password)`);
    user = decoded.slice(0, colon);
    pass = decoded.slice(colon + 1);
    secrets.push(auth, compact);
  } else {
    if (username === undefined && password === undefined) {
      if (identitytoken !== undefined) fail(`${where}: "identitytoken" needs "auth" or "username" beside it`);
      fail(
        `${where}: no credentials: expected "auth" (base64 of user:password) or "username" and "password"${auth === '' ? ' ("auth" is empty: docker login kept the password in a credential helper)' : ''}`,
      );
    }
    user = username ?? '';
    pass = password ?? '';
  }
  if (user === '') fail(`${where}: the user name is empty`);
  if (pass === '' && identitytoken === undefined) fail(`${where}: the password is empty`);
  secrets.push(pass, `${user}:${pass}`);
  const encoded = Buffer.from(`${user}:${pass}`, 'utf8').toString('base64');
  secrets.push(encoded);
  if (identitytoken !== undefined && identitytoken !== '') secrets.push(identitytoken);
  return {
    login: {
      auth: encoded,
      ...(identitytoken === undefined || identitytoken === '' ? {} : { identitytoken }),
    },
    secrets: secrets.filter((s) => s !== ''),
  };
}

/** Reads and parses `file` (RegistryAuthError when it cannot be read). */
export function readRegistryAuth(file: string): RegistryLogins {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new RegistryAuthError(
      `registry auth file ${file}: cannot read it (${code}): expected a readable file of registry logins`,
    );
  }
  return parseRegistryAuth(text, file);
}
