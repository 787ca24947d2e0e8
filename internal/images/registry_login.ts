/**
 * Which login of `registry.authFile` belongs to a registry. The file's keys are spelled as
 * `docker login` writes them (`localhost:5000`, `ghcr.io`, `https://index.docker.io/v1/` for
 * Docker Hub) or by hand (`https://ghcr.io`, `docker.io`); like the docker CLI, a key counts by its
 * host alone: scheme and path are dropped, and every spelling of Docker Hub is `docker.io`.
 */
import type { RegistryLogin } from '../registry/index.js';
import { DOCKER_HUB } from './reference.js';

/** The key `docker login` writes for Docker Hub: preferred when several spell it. */
const HUB_KEY = 'https://index.docker.io/v1/';
const HUB_HOSTS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** The registry a key of the auth file names, as references name it (`docker.io` for Docker Hub). */
export function loginRegistry(key: string): string {
  const host = key
    .trim()
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
    .replace(/\/.*$/, '')
    .toLowerCase();
  return HUB_HOSTS.has(host) ? DOCKER_HUB : host;
}

/** The login for `registry` (as `ImageReference.registry` names it), if `logins` has one. */
export function loginFor(
  logins: ReadonlyMap<string, RegistryLogin> | undefined,
  registry: string,
): RegistryLogin | undefined {
  if (logins === undefined) return undefined;
  const exact = logins.get(registry) ?? (registry === DOCKER_HUB ? logins.get(HUB_KEY) : undefined);
  if (exact !== undefined) return exact;
  for (const [key, login] of logins) {
    if (loginRegistry(key) === registry) return login;
  }
  return undefined;
}
