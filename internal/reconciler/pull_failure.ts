/**
 * The status message of a pull the registry refused (`pull_denied`) or could not serve
 * (`image_missing`): which image, of which service, from which registry, and why — compose's own
 * words name at most the service (v2: ` web Error unauthorized: …`) or the URL it asked.
 *
 * The shapes are those of compose v2 2.26 and v1 1.29 against Docker 20.10 and Debian's
 * docker-registry 2.8 (htpasswd auth):
 * - v2: ` web Error Head "http://localhost:5000/v2/x/manifests/1": no basic auth credentials`,
 *   ` web Error unauthorized: authentication required`, ` web Error manifest for
 *   localhost:5000/y:1 not found: manifest unknown: manifest unknown`, then `Error response from
 *   daemon: ` and the same reason.
 * - v1: `Pulling web (localhost:5000/x:1)...` then the reason alone.
 */
import { isComposeError } from '../compose/index.js';
import type { DesiredStack } from '../source/types.js';
import type { FailureCause } from '../status/index.js';

const REASON_CHARS = 300;

/** The registry an image reference pulls from: Docker's rule for the first path component. */
export function registryOf(image: string): string {
  const slash = image.indexOf('/');
  if (slash === -1) return 'docker.io';
  const first = image.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost' ? first : 'docker.io';
}

/** Images compose's words name: `manifest for IMG not found`, `pull access denied for IMG`, a manifest URL. */
function imagesInText(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/manifest for (\S+) not found/g)) if (m[1] !== undefined) out.push(m[1]);
  for (const m of text.matchAll(/pull access denied for ([^\s,]+)/g)) if (m[1] !== undefined) out.push(m[1]);
  for (const m of text.matchAll(/"https?:\/\/([^/"]+)\/v2\/([^"]+)\/manifests\/([^"]+)"/g)) {
    const [, host, repo, ref] = m;
    if (host === undefined || repo === undefined || ref === undefined) continue;
    const registry = /^registry-\d+\.docker\.io$|^index\.docker\.io$/.test(host) ? '' : `${host}/`;
    out.push(`${registry}${repo}${ref.includes(':') ? '@' : ':'}${ref}`);
  }
  return [...new Set(out)];
}

/** Compose's reason, without its `Error response from daemon: ` and a progress line's `web Error `. */
function reasonOf(lines: readonly string[]): string {
  const daemon = lines.find((l) => /^Error response from daemon: /.test(l));
  const picked =
    daemon?.replace(/^Error response from daemon: /, '') ??
    lines.find((l) => /no basic auth|unauthorized|denied|not found|manifest unknown/i.test(l)) ??
    lines.at(-1) ??
    '';
  const reason = picked.replace(/^ERROR:\s*/, '');
  return reason.length > REASON_CHARS ? `${reason.slice(0, REASON_CHARS - 1)}…` : reason;
}

/**
 * The message of a failed `up` whose cause is `pull_denied` or `image_missing`, naming each image
 * that failed with its service(s) and registry; undefined for any other failure (and for a failed
 * build, whose message already names what it built).
 */
export function pullFailureMessage(
  stack: DesiredStack,
  error: unknown,
  cause: FailureCause,
): string | undefined {
  if (cause !== 'pull_denied' && cause !== 'image_missing') return undefined;
  // `compose up` itself, not a step that wraps it (a build says what it built).
  if (!isComposeError(error) || error.outputTail !== '' || error.kind !== 'exited') return undefined;
  const compose = error;
  const lines = compose.stderrTail
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  const failed = new Set<string>();
  for (const line of lines) {
    const v2 = /^(\S+) Error\b/.exec(line)?.[1];
    if (v2 !== undefined && stack.services.has(v2)) failed.add(v2);
  }
  // v1 pulls one image at a time and stops at the first that fails: the last one it started.
  const v1 = [...lines].reverse().find((l) => /^Pulling \S+ \(\S+\)\.\.\.$/.test(l));
  const v1Match = v1 === undefined ? null : /^Pulling (\S+) \((\S+)\)\.\.\.$/.exec(v1);
  if (failed.size === 0 && v1Match?.[1] !== undefined && stack.services.has(v1Match[1]))
    failed.add(v1Match[1]);
  // By image: a service of the stack whose image compose named.
  const named = imagesInText(lines.join('\n'));
  if (v1Match?.[2] !== undefined) named.push(v1Match[2]);
  if (failed.size === 0) {
    for (const service of stack.services.values()) {
      if (service.image != null && named.some((n) => sameImage(n, service.image ?? '')))
        failed.add(service.name);
    }
  }
  // image → its services
  const byImage = new Map<string, string[]>();
  for (const name of [...failed].sort()) {
    const image = stack.services.get(name)?.image ?? named[0] ?? 'its image';
    byImage.set(image, [...(byImage.get(image) ?? []), name]);
  }
  if (byImage.size === 0) for (const image of named) byImage.set(image, []);
  const reason = reasonOf(lines);
  const what =
    byImage.size === 0
      ? 'an image of the stack'
      : [...byImage]
          .map(([image, services]) =>
            services.length === 0
              ? image
              : `${image} (service${services.length === 1 ? '' : 's'} ${services.join(', ')})`,
          )
          .join(', ');
  const registries = [...new Set([...byImage.keys()].filter((i) => i !== 'its image').map(registryOf))];
  const registry = registries.length === 0 ? 'the registry' : registries.join(', ');
  if (cause === 'image_missing') {
    return `pulling ${what} failed: not found in ${registry}${reason === '' ? '' : ` (${reason})`}`;
  }
  return `pulling ${what} failed: ${registry} denied access${reason === '' ? '' : ` (${reason})`}; stackd pulls with the logins of registry.authFile and dataDir/docker/config.json: check the one for ${registry}`;
}

/**
 * `named` (from compose's words) is `image`: `x:1` and `docker.io/library/x:1` are one image, and
 * a name without a tag or digest (Docker Hub's `pull access denied for x`) is any tag of it.
 */
function sameImage(named: string, image: string): boolean {
  const split = (ref: string): [string, string | undefined] => {
    const bare = ref.replace(/^(docker\.io\/)?(library\/)?/, '');
    const at = bare.indexOf('@');
    if (at !== -1) return [bare.slice(0, at), bare.slice(at)];
    const colon = bare.lastIndexOf(':');
    return colon > bare.lastIndexOf('/') ? [bare.slice(0, colon), bare.slice(colon)] : [bare, undefined];
  };
  const [repoA, tagA] = split(named);
  const [repoB, tagB] = split(image);
  return repoA === repoB && (tagA === undefined || tagA === (tagB ?? ':latest'));
}
