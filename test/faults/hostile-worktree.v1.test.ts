/** Fault: a work tree changed by a container, with compose v1 (the cases: hostile-worktree.suite.ts). */
import { hostileWorktreeSuite } from './hostile-worktree.suite.js';

hostileWorktreeSuite('compose v1', 'docker-compose', false);
