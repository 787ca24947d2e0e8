/** Compose project names: what compose accepts, and how stackd derives one from a stack id. */

const VALID = /^[a-z0-9][a-z0-9_-]*$/;

/**
 * `apps/web` → `apps_web`: lower-cased, every character outside `[a-z0-9_-]` replaced by `_`,
 * leading `_` and `-` dropped as compose drops them from a directory name (`_infra` → `infra`).
 */
export function deriveProjectName(stackId: string): string {
  return stackId
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '_')
    .replace(/^[_-]+/, '');
}

/** Why compose would reject `name` as a project name, or null when it is fine. */
export function projectNameProblem(name: string): string | null {
  if (VALID.test(name)) return null;
  return `project name \`${name}\` is not valid for compose (lower-case letters, digits, \`_\` and \`-\`, starting with a letter or digit)`;
}
