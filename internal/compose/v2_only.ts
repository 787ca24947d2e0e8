/**
 * Compose v2 features that compose v1 (1.29) rejects, told by v1's own words: a file using one
 * fails under v1 with a message that names the key but not that v2 would take it. Each shape was
 * seen with docker-compose 1.29.2 (`config -q`, stderr not a terminal), and each file passes
 * `docker compose config -q` 2.26.
 */

/** What to do about it, the same wherever it is said. */
export const INSTALL_V2 =
  "install compose v2 system-wide (Docker's `docker-compose-plugin`, Ubuntu's `docker-compose-v2` or Debian 13's `docker-compose` package) or set `compose.command` (STACKD_COMPOSE_COMMAND)";

/** The v2 features named in the warning when `auto` picks v1. */
export const V2_ONLY_FEATURES =
  'top-level `name:` and `include:`, `develop:`, `attach:`, `annotations:`, `depends_on: {restart: true}`, the `!reset` and `!override` tags';

const TOP_LEVEL = new Set(['name', 'include']);
const SERVICE_KEYS = new Set(['develop', 'attach', 'annotations']);

/** v1's message → the v2 feature it rejected, as shown (`include`, `develop`, `!reset`). */
const SHAPES: readonly ((stderr: string) => string | undefined)[] = [
  // `'include' does not match any of the regexes: '^x-'`: a top-level key v1 does not know.
  (s) => {
    const key = /'([A-Za-z_]+)' does not match any of the regexes: '\^x-'/.exec(s)?.[1];
    return key !== undefined && TOP_LEVEL.has(key) ? key : undefined;
  },
  // `Unsupported config option for services.web: 'develop'`.
  (s) => {
    const key = /Unsupported config option for services\.[^:\s]+: '([A-Za-z_]+)'/.exec(s)?.[1];
    return key !== undefined && SERVICE_KEYS.has(key) ? key : undefined;
  },
  // `services.web.depends_on contains unsupported option: 'restart'`.
  (s) =>
    /services\.[^.\s]+\.depends_on contains unsupported option: 'restart'/.test(s)
      ? 'depends_on.restart'
      : undefined,
  // PyYAML: `could not determine a constructor for the tag '!reset'`.
  (s) => /could not determine a constructor for the tag '(!reset|!override)'/.exec(s)?.[1],
];

/** The v2 feature a v1 error names (`include`, `develop`, `depends_on.restart`, `!reset`), or undefined. */
export function v2OnlyFeature(stderr: string): string | undefined {
  for (const shape of SHAPES) {
    const feature = shape(stderr);
    if (feature !== undefined) return feature;
  }
  return undefined;
}

/**
 * What the status message says when v1 rejected a v2 feature: "compose v1 does not support
 * `include` (a compose v2 key): install compose v2 …", or undefined for any other error.
 */
export function v2OnlyHint(stderr: string): string | undefined {
  const feature = v2OnlyFeature(stderr);
  if (feature === undefined) return undefined;
  const what = feature.startsWith('!')
    ? 'a compose v2 YAML tag'
    : TOP_LEVEL.has(feature)
      ? 'a top-level compose v2 key'
      : 'a compose v2 key';
  return `compose v1 does not support \`${feature}\` (${what}): ${INSTALL_V2}; see stackd's README, "Compose v1 and v2"`;
}
