import picomatch from 'picomatch';

export interface ScopeOptions {
  /**
   * Globs over stack ids a stack must match one of; an empty list means the default.
   * @default ['**']
   */
  readonly include?: readonly string[];
  /**
   * Globs over stack ids that take a stack out of scope even when included.
   * @default []
   */
  readonly exclude?: readonly string[];
}

/** Whether a stack id is in scope (FR-014). */
export type Scope = (id: string) => boolean;

export function createScope(options: ScopeOptions = {}): Scope {
  const include = checkGlobs('include', options.include ?? []);
  const exclude = checkGlobs('exclude', options.exclude ?? []);
  const included = picomatch(include.length === 0 ? ['**'] : include, { dot: true });
  const excluded = exclude.length === 0 ? () => false : picomatch(exclude, { dot: true });
  return (id) => included(id) && !excluded(id);
}

function checkGlobs(name: string, globs: unknown): string[] {
  if (!Array.isArray(globs) || globs.some((g) => typeof g !== 'string' || g === '')) {
    throw new TypeError(
      `Expected \`${name}\` to be a list of non-empty glob strings, got \`${JSON.stringify(globs)}\``,
    );
  }
  return globs as string[];
}
