/**
 * `x-stackd.dependsOn` across the snapshot: a stack that names a stack the snapshot does not hold
 * (not in the repository, or out of scope), or that is part of a cycle, is invalid, with a message
 * naming the id or the cycle. Which dependency is synced is the reconciler's question, not this one.
 */
import { invalid } from './build_stack.js';
import type { DesiredStack } from './types.js';

export function markDependencyProblems(stacks: readonly DesiredStack[]): DesiredStack[] {
  const byId = new Map(stacks.map((s) => [s.id, s]));
  const needs = (s: DesiredStack): readonly string[] => s.intent?.dependsOn ?? [];
  const cycles = new Map<string, string[]>();
  // Depth-first search; a back edge closes a cycle: every stack on it gets its path.
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (id: string): void => {
    state.set(id, 'open');
    path.push(id);
    const stack = byId.get(id);
    for (const next of stack === undefined ? [] : needs(stack)) {
      if (!byId.has(next)) continue;
      if (state.get(next) === 'open') {
        const cycle = [...path.slice(path.indexOf(next)), next];
        for (const member of cycle.slice(0, -1)) if (!cycles.has(member)) cycles.set(member, cycle);
      } else if (state.get(next) === undefined) visit(next);
    }
    path.pop();
    state.set(id, 'done');
  };
  for (const s of stacks) if (state.get(s.id) === undefined) visit(s.id);
  return stacks.map((stack) => {
    if (stack.error !== null) return stack;
    const deps = needs(stack);
    if (deps.includes(stack.id)) return invalid(stack, '`x-stackd.dependsOn` names the stack itself');
    const unknown = deps.filter((id) => !byId.has(id));
    if (unknown.length > 0)
      return invalid(
        stack,
        `\`x-stackd.dependsOn\`: no stack ${unknown.map((id) => `\`${id}\``).join(', ')} in the repository (in scope)`,
      );
    const cycle = cycles.get(stack.id);
    if (cycle !== undefined)
      return invalid(stack, `\`x-stackd.dependsOn\`: a cycle ${cycle.map((id) => `\`${id}\``).join(' → ')}`);
    return stack;
  });
}
