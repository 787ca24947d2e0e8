/**
 * The reconciler: `reconcile({ stack })` reads the latest snapshot and observation when it runs,
 * decides (in sync, apply, remove, or leave alone and say why), acts through compose with
 * carry-forward labels, and records the outcome in the state store. It never acts on containers
 * whose `io.stackd.managed-by` is not this instance, except to adopt an unlabelled project of the
 * same name as a desired stack.
 */
export {
  createReconciler,
  type Reconciler,
  type ReconcileRequest,
  type ReconcileSettings,
  type ReconcilerOptions,
  type ReconcileHooks,
} from './reconciler.js';
export { ReconcileError, TerminalReconcileError } from './errors.js';
export { EngineHealth } from './engine_watch.js';
export { planDesired, planRemoval, type StackPlan, type ServicePlan, type Action } from './plan.js';
export { runtimeStacks, stackIds } from './universe.js';
export { serviceStatuses } from './services.js';
export { syncedFromLabels } from './carry_forward.js';
export { stackStatus, stacksResponse } from './view.js';
export { preview, type StackPreview } from './preview.js';
export { decide, type Decision, type DecisionSettings } from './decide.js';
