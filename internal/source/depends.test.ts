import { describe, expect, it } from '@jest/globals';
import { desiredStack } from '../reconciler/fixtures.test-helpers.js';
import { markDependencyProblems } from './depends.js';
import { NO_INTENT } from './x_stackd.js';

const on = (id: string, ...deps: string[]) =>
  desiredStack(id, { app: 'sha256:a' }, { intent: { ...NO_INTENT, dependsOn: deps } });

describe('markDependencyProblems (x-stackd.dependsOn)', () => {
  it('leaves a valid graph alone', () => {
    const stacks = [on('apps/app', 'apps/db'), on('apps/db'), on('apps/web', 'apps/app', 'apps/db')];
    expect(markDependencyProblems(stacks).map((s) => s.error)).toEqual([null, null, null]);
  });

  it('fails a stack naming an unknown id, and itself', () => {
    const [unknown, self] = markDependencyProblems([on('apps/app', 'apps/dbb'), on('apps/db', 'apps/db')]);
    expect(unknown?.error).toBe('`x-stackd.dependsOn`: no stack `apps/dbb` in the repository (in scope)');
    expect(unknown?.composeHash).toBeNull();
    expect(self?.error).toBe('`x-stackd.dependsOn` names the stack itself');
  });

  it('fails every stack of a cycle, naming it; a stack that only depends on the cycle is left to wait', () => {
    const out = markDependencyProblems([on('a', 'b'), on('b', 'c'), on('c', 'a'), on('d', 'a')]);
    expect(out.map((s) => s.error)).toEqual([
      '`x-stackd.dependsOn`: a cycle `a` → `b` → `c` → `a`',
      '`x-stackd.dependsOn`: a cycle `a` → `b` → `c` → `a`',
      '`x-stackd.dependsOn`: a cycle `a` → `b` → `c` → `a`',
      null,
    ]);
    // c is on the cycle a → c → b → a, though a's first path to b is direct.
    const knot = markDependencyProblems([on('a', 'b', 'c'), on('b', 'a'), on('c', 'b')]);
    expect(knot.map((s) => s.error?.startsWith('`x-stackd.dependsOn`: a cycle'))).toEqual([true, true, true]);
    const pair = markDependencyProblems([on('app', 'db'), on('db', 'app')]);
    expect(pair.map((s) => s.error)).toEqual([
      '`x-stackd.dependsOn`: a cycle `app` → `db` → `app`',
      '`x-stackd.dependsOn`: a cycle `app` → `db` → `app`',
    ]);
  });
});
