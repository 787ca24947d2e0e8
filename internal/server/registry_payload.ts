/**
 * Reading a registry's push notification, pure: which tags were pushed, named as canonical
 * `registry/repository` (internal/images/reference.ts), so that a push of `localhost:5000/app:1`
 * and a service's `image: localhost:5000/app:1` agree. Three senders: docker-registry's
 * notifications (`{"events": [...]}`), Docker Hub (`{"push_data": ..., "repository": ...}`) and
 * GitHub's `package` event (ghcr.io). Events that push no tag (pulls, blobs, a manifest by
 * digest) are passed over; a payload that is not one of these is a `PayloadError`.
 */
import { DOCKER_HUB, parseReference, tagKey } from '../images/reference.js';
import type { RegistryProviderLabel } from '../metrics/index.js';
import type { ImagePush } from './options.js';
import { PayloadError } from './webhook_payload.js';

export interface RegistryNotice {
  readonly provider: RegistryProviderLabel;
  /** The tags pushed, each once, in payload order. */
  readonly pushes: readonly ImagePush[];
  /** Why nothing is taken from it, when `pushes` is empty. */
  readonly ignored: string | undefined;
}

export const GHCR = 'ghcr.io';

/** Manifest media types (Docker v2 and v1, OCI manifest and index); a blob is `application/octet-stream`. */
const MANIFEST_TYPE = /manifest|image\.index/i;

type Json = Readonly<Record<string, unknown>>;

/** A body sent with the registry token: docker-registry's events, or a Docker Hub push. */
export function parseTokenPayload(body: Json): RegistryNotice {
  if ('events' in body) return parseDistribution(body);
  if ('push_data' in body) return parseDockerHub(body);
  throw new PayloadError(
    'neither a registry notification (events) nor a Docker Hub push (push_data, repository)',
  );
}

/** docker-registry's `notifications`: `{"events": [{"action": "push", "target": {...}, "request": {...}}]}`. */
export function parseDistribution(body: Json): RegistryNotice {
  const { events } = body;
  if (!Array.isArray(events)) throw new PayloadError('events is not an array');
  const pushes: ImagePush[] = [];
  const passed: string[] = [];
  events.forEach((event: unknown, i) => {
    const where = `events[${i}]`;
    if (!isObject(event)) throw new PayloadError(`${where} is not an object`);
    const target = isObject(event['target']) ? event['target'] : {};
    const { tag, mediaType, repository, url } = target;
    if (event['action'] !== 'push') {
      passed.push(typeof event['action'] === 'string' ? event['action'] : 'no action');
      return;
    }
    if (typeof mediaType === 'string' && !MANIFEST_TYPE.test(mediaType)) {
      passed.push('a blob push');
      return;
    }
    if (typeof tag !== 'string' || tag === '') {
      passed.push('a push without a tag');
      return;
    }
    if (typeof repository !== 'string' || repository === '') {
      throw new PayloadError(`${where}.target.repository is missing`);
    }
    const request = isObject(event['request']) ? event['request'] : {};
    const host = nonEmpty(request['host']) ?? hostOfUrl(url);
    if (host === undefined) {
      throw new PayloadError(`${where} names no registry (request.host, target.url)`);
    }
    const push = pushOf(host, repository, tag, where);
    if (typeof push === 'string') passed.push(push);
    else pushes.push(push);
  });
  return notice('distribution', pushes, () =>
    events.length === 0
      ? 'no events'
      : `no tag pushed (${events.length} event${events.length === 1 ? '' : 's'}: ${[...new Set(passed)].join(', ')})`,
  );
}

/** Docker Hub: `{"push_data": {"tag": "1.2"}, "repository": {"repo_name": "team/app"}}`. */
export function parseDockerHub(body: Json): RegistryNotice {
  const data = isObject(body['push_data']) ? body['push_data'] : undefined;
  const repository = isObject(body['repository']) ? body['repository'] : undefined;
  const tag = nonEmpty(data?.['tag']);
  const name = nonEmpty(repository?.['repo_name']);
  if (tag === undefined) throw new PayloadError('push_data.tag is missing');
  if (name === undefined) throw new PayloadError('repository.repo_name is missing');
  const push = pushOf(DOCKER_HUB, name, tag, 'repository.repo_name');
  if (typeof push === 'string') throw new PayloadError(push);
  return notice('dockerhub', [push], () => '');
}

/** GitHub's `package` event: a container version published (or updated) on ghcr.io. */
export function parseGithubPackage(body: Json): RegistryNotice {
  const { action } = body;
  if (action !== 'published' && action !== 'updated') {
    return notice('ghcr', [], () => `package action ${String(action)}, not published or updated`);
  }
  const pkg = body['package'];
  if (!isObject(pkg)) throw new PayloadError('package is missing');
  const type = nonEmpty(pkg['package_type']);
  if (type?.toLowerCase() !== 'container') {
    return notice('ghcr', [], () => `a ${type ?? 'untyped'} package, not a container`);
  }
  const namespace = nonEmpty(pkg['namespace']);
  const name = nonEmpty(pkg['name']);
  if (namespace === undefined) throw new PayloadError('package.namespace is missing');
  if (name === undefined) throw new PayloadError('package.name is missing');
  const version = isObject(pkg['package_version']) ? pkg['package_version'] : {};
  const metadata = isObject(version['container_metadata']) ? version['container_metadata'] : {};
  const tag = nonEmpty(isObject(metadata['tag']) ? metadata['tag']['name'] : undefined);
  if (tag === undefined) return notice('ghcr', [], () => 'the package version has no tag');
  const push = pushOf(GHCR, `${namespace}/${name}`.toLowerCase(), tag, 'package');
  if (typeof push === 'string') throw new PayloadError(push);
  return notice('ghcr', [push], () => '');
}

/** The canonical push of `registry/repository:tag`, or why there is none. */
function pushOf(registry: string, repository: string, tag: string, where: string): ImagePush | string {
  // The engine reads a first component as a registry only when it looks like a host: a registry
  // addressed as `registry` (no dot, no port) is one no image reference can name.
  const first = registry.toLowerCase();
  if (!(first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('['))) {
    return `${registry} is not a registry name image references can use`;
  }
  const spelled = `${registry}/${repository}:${tag}`;
  const ref = parseReference(spelled);
  const key = ref === null ? null : tagKey(ref);
  if (ref === null || ref.tag === null || key === null) {
    throw new PayloadError(`${where}: ${JSON.stringify(spelled)} is not an image reference`);
  }
  return { name: ref.name, tag: ref.tag };
}

function notice(
  provider: RegistryProviderLabel,
  pushes: readonly ImagePush[],
  ignored: () => string,
): RegistryNotice {
  const seen = new Set<string>();
  const distinct = pushes.filter((p) => {
    const key = `${p.name}:${p.tag}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return { provider, pushes: distinct, ignored: distinct.length === 0 ? ignored() : undefined };
}

function hostOfUrl(url: unknown): string | undefined {
  if (typeof url !== 'string') return undefined;
  try {
    return nonEmpty(new URL(url).host);
  } catch {
    return undefined;
  }
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
