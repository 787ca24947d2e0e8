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
  // Tarjan's strongly connected components: every stack in a component of two or more (or with
  // an edge to itself) is on a cycle; its message names the component's members in order.
  const cycles = new Map<string, string[]>();
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  let counter = 0;
  const connect = (id: string): void => {
    index.set(id, counter);
    low.set(id, counter);
    counter++;
    stack.push(id);
    onStack.add(id);
    const node = byId.get(id);
    for (const next of node === undefined ? [] : needs(node)) {
      if (!byId.has(next) || next === id) continue;
      if (!index.has(next)) {
        connect(next);
        low.set(id, Math.min(low.get(id) ?? 0, low.get(next) ?? 0));
      } else if (onStack.has(next)) low.set(id, Math.min(low.get(id) ?? 0, index.get(next) ?? 0));
    }
    if (low.get(id) !== index.get(id)) return;
    const members: string[] = [];
    for (;;) {
      const member = stack.pop();
      if (member === undefined) break;
      onStack.delete(member);
      members.push(member);
      if (member === id) break;
    }
    if (members.length < 2) return;
    const ordered = members.reverse();
    for (const member of ordered) cycles.set(member, [...ordered, ordered[0] ?? '']);
  };
  for (const s of stacks) if (!index.has(s.id)) connect(s.id);
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
