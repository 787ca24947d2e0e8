/** `stackd plan`: what a pass would do to each stack, and why, without doing it. */
import type { Observation } from '../informer/types.js';
import type { Snapshot } from '../source/types.js';
import type { StackRecord } from '../state/index.js';
import { type DecisionSettings, decide } from './decide.js';
import { stackSettings, suspensionOf, waitingFor } from './intent.js';
import type { Action, ServicePlan } from './plan.js';
import { leftoverProject, renamedProjects } from './universe.js';

export interface StackPreview {
  readonly id: string;
  readonly project: string;
  readonly action: Action;
  readonly reason: string;
  readonly composeHash: string | null;
  readonly services: readonly ServicePlan[];
}

export function preview(
  id: string,
  snapshot: Snapshot,
  observation: Observation,
  settings: DecisionSettings,
  instance: string,
  /** The stack's record: its held failure, and what it last applied (names what changed). */
  record?: StackRecord,
  /** Every stack's record (its dependencies' statuses). */
  records: (id: string) => StackRecord | undefined = () => undefined,
): StackPreview {
  const desired = snapshot.stacks.get(id);
  const observed =
    desired !== undefined
      ? observation.projects.get(desired.project)
      : leftoverProject(observation, snapshot, id, instance);
  const base = {
    id,
    project: desired?.project ?? observed?.project ?? '',
    composeHash: desired?.composeHash ?? null,
  };
  const decision = decide({
    desired,
    observed,
    desiredEmpty: snapshot.stacks.size === 0,
    settings: stackSettings(settings, desired, record),
    instance,
    force: false,
    held: record?.held,
    applied: record?.applied,
    suspended: suspensionOf(desired, record, () => new Date().toISOString()),
    waitingFor: waitingFor(desired, snapshot, records),
    ...(desired !== undefined
      ? { renamedFrom: renamedProjects(observation, snapshot, id, desired.project, instance) }
      : {}),
  });
  switch (decision.kind) {
    case 'invalid':
    case 'foreign':
      return { ...base, action: 'skip', reason: decision.message, services: [] };
    case 'hold':
      return { ...base, action: 'skip', reason: decision.message, services: decision.plan.services };
    case 'held_failure':
      return {
        ...base,
        action: 'skip',
        reason: `failed at this commit, not retried until a new commit or stackd sync ${id}: ${decision.message}`,
        services: decision.plan.services,
      };
    case 'gone':
      return { ...base, action: 'none', reason: 'not desired and not running', services: [] };
    case 'in_sync':
    case 'apply':
    case 'remove':
      return {
        ...base,
        action: decision.plan.action,
        reason: decision.plan.reason,
        services: decision.plan.services,
      };
  }
}
