/**
 * Image references as the Docker engine reads them (distribution's `reference` grammar, the
 * docker CLI's normalisation): `nginx` is `docker.io/library/nginx:latest`, `localhost:5000/app:1`
 * names registry `localhost:5000`, repository `app`, tag `1`. One parser for the watcher (which
 * asks registries for digests) and the registry webhook (which names pushed `repository:tag`s),
 * so both agree on when two spellings are the same image.
 */

export interface ImageReference {
  /** The registry as references name it: `docker.io` for Docker Hub, else `host[:port]`, lower case. */
  readonly registry: string;
  /** The repository path inside it: `library/nginx`, `team/app`. */
  readonly repository: string;
  /** The tag; `latest` when the reference names neither a tag nor a digest. Null with a digest only. */
  readonly tag: string | null;
  /** `sha256:<hex>` when the reference pins one (`app@sha256:…`), else null. */
  readonly digest: string | null;
  /** `registry/repository`: the canonical name two spellings of one repository share. */
  readonly name: string;
}

/** Docker Hub's spellings; its API host is `registry-1.docker.io`. */
export const DOCKER_HUB = 'docker.io';
const HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[0-9a-fA-F]{32,}$/;
const HOST =
  /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?$/;

/** Parses `ref`; null when it is not a reference the engine would accept. */
export function parseReference(ref: string): ImageReference | null {
  let rest = ref.trim();
  if (rest === '' || rest !== ref) return null;
  let digest: string | null = null;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) return null;
  }
  let tag: string | null = null;
  const slash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) return null;
  }
  const parts = rest.split('/');
  const first = parts[0] ?? '';
  let registry = DOCKER_HUB;
  if (
    parts.length > 1 &&
    (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('['))
  ) {
    if (!HOST.test(first)) return null;
    registry = first.toLowerCase();
    parts.shift();
  }
  if (HUB_ALIASES.has(registry)) registry = DOCKER_HUB;
  if (parts.length === 0 || !parts.every((p) => COMPONENT.test(p))) return null;
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift('library');
  const repository = parts.join('/');
  if (tag === null && digest === null) tag = 'latest';
  return { registry, repository, tag, digest, name: `${registry}/${repository}` };
}

/** `name:tag` (the key a push of that tag and a service watching it share), or null for a digest-only reference. */
export function tagKey(ref: ImageReference): string | null {
  return ref.tag === null ? null : `${ref.name}:${ref.tag}`;
}
