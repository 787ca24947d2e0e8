/** Fault: a work tree changed by a container, with compose v2 (the cases: hostile-worktree.suite.ts). */
import { hostileWorktreeSuite } from './hostile-worktree.suite.js';

hostileWorktreeSuite('compose v2', 'docker compose', true);
