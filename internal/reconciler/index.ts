/**
 * The reconciler: `reconcile({ stack })` reads the latest snapshot and observation when it runs,
 * decides (in sync, apply, remove, or leave alone and say why), acts through compose with
 * carry-forward labels, and records the outcome in the state store. It never acts on containers
 * whose `io.stackd.managed-by` is not this instance, except to adopt an unlabelled project of the
 * same name as a desired stack. Also here: the plan preview and the read model (which stacks
 * exist, their status) that the controller and the API answer with.
 */
export { createReconciler } from './reconciler.js';
export type {
  Reconciler,
  ReconcileRequest,
  ReconcileSettings,
  ReconcilerOptions,
  ReconcileHooks,
} from './options.js';
export { EngineHealth } from './engine_watch.js';
export { preview, type StackPreview } from './preview.js';
export { runtimeStacks, stackIds } from './universe.js';
export { stackStatus, stacksResponse } from './view.js';
