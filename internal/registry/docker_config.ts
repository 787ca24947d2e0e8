/**
 * Writing the logins of `registry.authFile` into `<dataDir>/docker/config.json`, the config of the
 * only docker clients that see it: the compose processes stackd starts (`DOCKER_CONFIG`, see
 * internal/compose/pin.ts). Merged, never replaced: logins made there by hand (`docker login` with
 * that DOCKER_CONFIG) for other registries and every other key of the file stay as they were; for
 * a registry the auth file names, the auth file wins, and a different hand-made login it replaces
 * is logged by name. Which registries stackd wrote is kept beside it (`stackd-registries.json`,
 * names only), so a login removed from the auth file is removed from config.json too, and a
 * hand-made one never is.
 */
import { chmod, lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../pkg/atomicfile/index.js';
import { RegistryAuthError, type RegistryLogin } from './auth_file.js';

/** The registries stackd wrote into config.json: `{"registries": [...]}`, no credentials. */
export const MANAGED_FILE = 'stackd-registries.json';
export const CONFIG_FILE = 'config.json';

export interface SyncResult {
  /** Registries whose login stackd wrote (from the auth file). */
  readonly written: readonly string[];
  /** Registries stackd had written before and the auth file no longer names: removed. */
  readonly removed: readonly string[];
  /** Registries whose hand-made login (not stackd's) the auth file's replaced. */
  readonly replaced: readonly string[];
  /** The logins compose pulls with changed (a login added, removed or altered). */
  readonly changed: boolean;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function readManaged(dir: string): Promise<string[]> {
  try {
    const data = JSON.parse(await readFile(join(dir, MANAGED_FILE), 'utf8')) as unknown;
    const list = isMapping(data) ? data['registries'] : undefined;
    return Array.isArray(list) ? list.filter((r): r is string => typeof r === 'string') : [];
  } catch {
    // Missing (first start, or never any auth file) or unreadable: nothing known to be stackd's.
    return [];
  }
}

/** The current config.json as a mapping; `{}` when there is none. Refuses what it cannot merge. */
async function readDockerConfig(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    const stat = await lstat(path);
    if (stat.isSymbolicLink()) {
      throw new RegistryAuthError(
        `${path} is a symbolic link: stackd writes the logins of registry.authFile into a file of its own there (mode 0600); remove the link`,
      );
    }
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof RegistryAuthError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new RegistryAuthError(`${path}: cannot read it (${code}) to add the logins of registry.authFile`);
  }
  if (text.trim() === '') return {};
  let data: unknown;
  try {
    data = JSON.parse(text) as unknown;
  } catch {
    // Not quoted: the file holds credentials.
    throw new RegistryAuthError(
      `${path} is not valid JSON, so the logins of registry.authFile cannot be merged into it: fix it or remove it (docker login writes it again)`,
    );
  }
  if (!isMapping(data)) {
    throw new RegistryAuthError(`${path}: expected a JSON object (Docker's config.json), got something else`);
  }
  return data;
}

const sameLogin = (a: unknown, b: RegistryLogin): boolean =>
  isMapping(a) &&
  a['auth'] === b.auth &&
  (a['identitytoken'] ?? undefined) === b.identitytoken &&
  Object.keys(a).every((k) => k === 'auth' || k === 'identitytoken' || k === 'email');

/**
 * Merges `logins` into `<dockerConfig>/config.json` (created 0600, replaced atomically, written
 * only when something changed) and removes the logins stackd wrote earlier that `logins` no
 * longer has. With no logins and none written before, the file is not touched at all.
 */
export async function syncDockerLogins(
  dockerConfig: string,
  logins: ReadonlyMap<string, RegistryLogin>,
): Promise<SyncResult> {
  const managed = await readManaged(dockerConfig);
  if (logins.size === 0 && managed.length === 0) {
    return { written: [], removed: [], replaced: [], changed: false };
  }
  const path = join(dockerConfig, CONFIG_FILE);
  const current = await readDockerConfig(path);
  const before = isMapping(current['auths']) ? current['auths'] : {};
  const removed = managed.filter((registry) => !logins.has(registry) && Object.hasOwn(before, registry));
  const auths: Record<string, unknown> = Object.fromEntries(
    Object.entries(before).filter(([registry]) => !removed.includes(registry)),
  );
  const replaced: string[] = [];
  let changed = removed.length > 0;
  for (const [registry, login] of logins) {
    const existing = Object.hasOwn(auths, registry) ? auths[registry] : undefined;
    if (existing !== undefined && sameLogin(existing, login)) continue;
    changed = true;
    if (existing !== undefined && !managed.includes(registry)) replaced.push(registry);
    auths[registry] = { ...login };
  }
  const next = { ...current, auths };
  if (changed || !isMapping(current['auths'])) {
    await writeFileAtomic(path, `${JSON.stringify(next, null, '\t')}\n`, {
      mode: 0o600,
      fsync: true,
      fsyncDir: true,
    });
  } else if (logins.size > 0) {
    // Unchanged, but readable by this user only whoever wrote it (docker login writes 0600 too).
    await chmod(path, 0o600);
  }
  const registries = [...logins.keys()].sort();
  if (registries.join('\n') !== [...managed].sort().join('\n')) {
    await writeFileAtomic(join(dockerConfig, MANAGED_FILE), `${JSON.stringify({ registries })}\n`, {
      mode: 0o600,
      fsync: true,
    });
  }
  return { written: registries, removed, replaced, changed };
}
