import { invalid } from './build_stack.js';
import type { DesiredStack } from './types.js';

/**
 * Mark every stack whose project name another stack also uses as invalid, naming the other
 * stacks (DESIGN.md §2: both are invalid). Stacks that failed to parse do not take part: their
 * project name is only a guess from the id.
 */
export function markProjectConflicts(stacks: readonly DesiredStack[]): DesiredStack[] {
  const byProject = new Map<string, string[]>();
  for (const stack of stacks) {
    if (stack.error !== null) continue;
    byProject.set(stack.project, [...(byProject.get(stack.project) ?? []), stack.id]);
  }
  return stacks.map((stack) => {
    const ids = stack.error === null ? (byProject.get(stack.project) ?? []) : [];
    if (ids.length < 2) return stack;
    const others = ids.filter((id) => id !== stack.id).map((id) => `\`${id}\``);
    return invalid(stack, `project name \`${stack.project}\` is also used by stack ${others.join(', ')}`);
  });
}
