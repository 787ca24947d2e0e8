/**
 * The controller: triggers (poll, webhook, manual, resync, Docker events) → desired-source
 * refresh → work queue → reconciler, with a clean stop. `createDaemon` wires `stackd run` in one
 * place; `syncOnce` and `planOnce` are the one-pass commands. Everything else stays inside.
 */
export { Controller } from './controller.js';
export type { ControllerOptions } from './options.js';
export { createDaemon, type Daemon, type DaemonParts } from './daemon.js';
export type { ControllerHooks } from './hooks.js';
export { planOnce, syncOnce, type OnceResult, type PlanResult } from './once.js';
export { createRuntime, type Runtime, type RuntimeOptions, type RuntimeParts } from './runtime.js';
