/**
 * The state file's schema, checked field by field on load. Valid JSON is not enough: a record
 * without `synced`, a `__proto__` or `constructor` stack id, a string where a list belongs would
 * otherwise reach code that trusts the shape, and a daemon that crashes on start under
 * `Restart=on-failure` is a crash loop. Anything that does not fit is an InvalidStateError (the
 * file is then moved aside and the state rebuilt from labels). Maps keyed by stack id are built
 * without a prototype, so no id can be mistaken for an inherited property.
 */
import { FAILURE_CAUSES, OUTCOMES, STACK_STATUSES } from '../status/index.js';
import type {
  HeldFailure,
  HistoryEntry,
  LastResult,
  RejectedDigest,
  RollbackInfo,
  ServiceChangeWhy,
  ServiceStatus,
  Suspension,
  SyncedInfo,
} from '../status/index.js';
import {
  STATE_VERSION,
  type AppliedService,
  type RunRecord,
  type StackRecord,
  type StateData,
} from './types.js';

export class InvalidStateError extends Error {
  override readonly name = 'InvalidStateError';
}

/** An object keyed by stack id: no prototype, so `constructor` or `__proto__` are plain ids. */
export function idMap<T>(entries: Iterable<readonly [string, T]> = []): Record<string, T> {
  const out = Object.create(null) as Record<string, T>;
  for (const [key, value] of entries) out[key] = value;
  return out;
}

type Raw = Readonly<Record<string, unknown>>;

function object(value: unknown, where: string): Raw {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidStateError(`${where} is not an object`);
  }
  return value as Raw;
}

function list(value: unknown, where: string): readonly unknown[] {
  if (!Array.isArray(value)) throw new InvalidStateError(`${where} is not a list`);
  return value;
}

function string(value: unknown, where: string): string {
  if (typeof value !== 'string') throw new InvalidStateError(`${where} is not a string`);
  return value;
}

function nullableString(value: unknown, where: string): string | null {
  return value === null ? null : string(value, where);
}

function number(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new InvalidStateError(`${where} is not a number`);
  return value;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], where: string): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new InvalidStateError(`${where} is not one of ${allowed.join(', ')}`);
  }
  return value as T;
}

/** Own property only: never one inherited from Object.prototype. */
function field(raw: Raw, key: string): unknown {
  return Object.hasOwn(raw, key) ? raw[key] : undefined;
}

function synced(value: unknown, where: string): SyncedInfo | null {
  if (value === null) return null;
  const raw = object(value, where);
  return {
    revision: string(field(raw, 'revision'), `${where}.revision`),
    composeHash: string(field(raw, 'composeHash'), `${where}.composeHash`),
    at: string(field(raw, 'at'), `${where}.at`),
    ...(field(raw, 'appliedAt') === undefined
      ? {}
      : { appliedAt: string(field(raw, 'appliedAt'), `${where}.appliedAt`) }),
  };
}

function lastResult(value: unknown, where: string): LastResult | null {
  if (value === null) return null;
  const raw = object(value, where);
  return {
    outcome: oneOf(field(raw, 'outcome'), OUTCOMES, `${where}.outcome`),
    at: string(field(raw, 'at'), `${where}.at`),
    message: string(field(raw, 'message'), `${where}.message`),
    durationMs: number(field(raw, 'durationMs'), `${where}.durationMs`),
  };
}

function service(value: unknown, where: string): ServiceStatus {
  const raw = object(value, where);
  const inSync = field(raw, 'inSync');
  if (typeof inSync !== 'boolean') throw new InvalidStateError(`${where}.inSync is not a boolean`);
  const restarts = field(raw, 'restarts');
  return {
    name: string(field(raw, 'name'), `${where}.name`),
    state: string(field(raw, 'state'), `${where}.state`),
    health: nullableString(field(raw, 'health'), `${where}.health`),
    inSync,
    ...(restarts === undefined || restarts === null
      ? {}
      : { restarts: number(restarts, `${where}.restarts`) }),
    ...optional(raw, 'image', where, string),
    ...optional(raw, 'digest', where, string),
    ...optional(raw, 'availableDigest', where, string),
  };
}

/** An optional field of a record, checked by `parse`: absent stays absent, null stays null. */
function optional<K extends string, T>(
  raw: Raw,
  key: K,
  where: string,
  parse: (value: unknown, where: string) => T,
): Partial<Record<K, T | null>> {
  const value = field(raw, key);
  if (value === undefined) return {};
  return { [key]: value === null ? null : parse(value, `${where}.${key}`) } as Partial<Record<K, T | null>>;
}

function held(value: unknown, where: string): HeldFailure {
  const raw = object(value, where);
  return {
    revision: string(field(raw, 'revision'), `${where}.revision`),
    composeHash: string(field(raw, 'composeHash'), `${where}.composeHash`),
    cause: oneOf(field(raw, 'cause'), FAILURE_CAUSES, `${where}.cause`),
    message: string(field(raw, 'message'), `${where}.message`),
  };
}

function rejectedDigests(value: unknown, where: string): Record<string, RejectedDigest> {
  const raw = object(value, where);
  const out = Object.create(null) as Record<string, RejectedDigest>;
  for (const [service, entry] of Object.entries(raw)) {
    const at = `${where}[${JSON.stringify(service)}]`;
    const item = object(entry, at);
    out[service] = {
      digest: string(field(item, 'digest'), `${at}.digest`),
      message: string(field(item, 'message'), `${at}.message`),
      at: string(field(item, 'at'), `${at}.at`),
    };
  }
  return out;
}

function heals(value: unknown, where: string): { composeHash: string; at: string[] } {
  const raw = object(value, where);
  return {
    composeHash: string(field(raw, 'composeHash'), `${where}.composeHash`),
    at: list(field(raw, 'at'), `${where}.at`).map((t, i) => string(t, `${where}.at[${i}]`)),
  };
}

function rollback(value: unknown, where: string): RollbackInfo {
  const raw = object(value, where);
  return {
    from: string(field(raw, 'from'), `${where}.from`),
    to: string(field(raw, 'to'), `${where}.to`),
    at: string(field(raw, 'at'), `${where}.at`),
    reason: string(field(raw, 'reason'), `${where}.reason`),
  };
}

function changes(value: unknown, where: string): ServiceChangeWhy[] {
  return list(value, where).map((c, i) => {
    const raw = object(c, `${where}[${i}]`);
    return {
      service: string(field(raw, 'service'), `${where}[${i}].service`),
      change: string(field(raw, 'change'), `${where}[${i}].change`),
      why: string(field(raw, 'why'), `${where}[${i}].why`),
    };
  });
}

/** An optional list of changes: absent (or null, never written) stays absent. */
function optionalChanges(raw: Raw, where: string): { changes?: ServiceChangeWhy[] } {
  const value = field(raw, 'changes');
  return value === undefined || value === null ? {} : { changes: changes(value, `${where}.changes`) };
}

function historyEntry(value: unknown, where: string): HistoryEntry {
  const raw = object(value, where);
  const result = lastResult(raw, where);
  if (result === null) throw new InvalidStateError(`${where} is null`);
  return {
    ...result,
    revision: nullableString(field(raw, 'revision'), `${where}.revision`),
    composeHash: nullableString(field(raw, 'composeHash'), `${where}.composeHash`),
    action: string(field(raw, 'action'), `${where}.action`),
    ...optionalChanges(raw, where),
  };
}

function suspension(value: unknown, where: string): Suspension {
  const raw = object(value, where);
  return {
    reason: string(field(raw, 'reason'), `${where}.reason`),
    by: oneOf(field(raw, 'by'), ['repo', 'api'] as const, `${where}.by`),
    at: string(field(raw, 'at'), `${where}.at`),
  };
}

function boolean(value: unknown, where: string): boolean {
  if (typeof value !== 'boolean') throw new InvalidStateError(`${where} is not a boolean`);
  return value;
}

function stringMap(value: unknown, where: string): Record<string, string> {
  const raw = object(value, where);
  const out = Object.create(null) as Record<string, string>;
  for (const [key, item] of Object.entries(raw)) out[key] = string(item, `${where}[${JSON.stringify(key)}]`);
  return out;
}

function applied(value: unknown, where: string): Record<string, AppliedService> {
  const raw = object(value, where);
  const out = Object.create(null) as Record<string, AppliedService>;
  for (const [name, entry] of Object.entries(raw)) {
    const at = `${where}[${JSON.stringify(name)}]`;
    const item = object(entry, at);
    const parts = object(field(item, 'parts'), `${at}.parts`);
    out[name] = {
      hash: string(field(item, 'hash'), `${at}.hash`),
      parts: {
        image: nullableString(field(parts, 'image'), `${at}.parts.image`),
        definition: string(field(parts, 'definition'), `${at}.parts.definition`),
        files: stringMap(field(parts, 'files'), `${at}.parts.files`),
      },
    };
  }
  return out;
}

function stackRecord(value: unknown, where: string): StackRecord {
  const raw = object(value, where);
  const missingAt = field(raw, 'missingAt');
  return {
    project: string(field(raw, 'project'), `${where}.project`),
    status: oneOf(field(raw, 'status'), STACK_STATUSES, `${where}.status`),
    message: string(field(raw, 'message'), `${where}.message`),
    synced: synced(field(raw, 'synced'), `${where}.synced`),
    lastResult: lastResult(field(raw, 'lastResult'), `${where}.lastResult`),
    services: list(field(raw, 'services'), `${where}.services`).map((s, i) =>
      service(s, `${where}.services[${i}]`),
    ),
    history: list(field(raw, 'history'), `${where}.history`).map((e, i) =>
      historyEntry(e, `${where}.history[${i}]`),
    ),
    ...(missingAt === undefined ? {} : { missingAt: string(missingAt, `${where}.missingAt`) }),
    ...optional(raw, 'held', where, held),
    ...optional(raw, 'heals', where, heals),
    ...optional(raw, 'rollback', where, rollback),
    ...optional(raw, 'rejectedDigests', where, rejectedDigests),
    ...optional(raw, 'applied', where, applied),
    ...optional(raw, 'suspended', where, suspension),
    ...optional(raw, 'prune', where, boolean),
  };
}

function runRecord(value: unknown, where: string): RunRecord {
  const raw = object(value, where);
  return {
    id: number(field(raw, 'id'), `${where}.id`),
    trigger: string(field(raw, 'trigger'), `${where}.trigger`),
    revision: nullableString(field(raw, 'revision'), `${where}.revision`),
    startedAt: string(field(raw, 'startedAt'), `${where}.startedAt`),
    finishedAt: nullableString(field(raw, 'finishedAt'), `${where}.finishedAt`),
    stacks: list(field(raw, 'stacks'), `${where}.stacks`).map((s, i) => {
      const stack = object(s, `${where}.stacks[${i}]`);
      return {
        id: string(field(stack, 'id'), `${where}.stacks[${i}].id`),
        outcome: string(field(stack, 'outcome'), `${where}.stacks[${i}].outcome`),
        message: string(field(stack, 'message'), `${where}.stacks[${i}].message`),
        ...optionalChanges(stack, `${where}.stacks[${i}]`),
      };
    }),
  };
}

/** The state in `raw` (parsed JSON), checked against the schema; throws InvalidStateError naming the field. */
export function parseState(raw: unknown): StateData {
  const data = object(raw, 'the state');
  const version = field(data, 'version');
  if (version !== STATE_VERSION)
    throw new InvalidStateError(`unsupported version ${JSON.stringify(version)}`);
  const enabled = field(data, 'reconcileEnabled');
  if (enabled !== undefined && enabled !== null && typeof enabled !== 'boolean') {
    throw new InvalidStateError('reconcileEnabled is not true, false or null');
  }
  const stacks = object(field(data, 'stacks'), '"stacks"');
  const runs = field(data, 'runs');
  return {
    version: STATE_VERSION,
    reconcileEnabled: enabled ?? null,
    stacks: idMap(
      Object.entries(stacks).map(
        ([id, record]) => [id, stackRecord(record, `stack ${JSON.stringify(id)}`)] as const,
      ),
    ),
    runs: runs === undefined ? [] : list(runs, '"runs"').map((r, i) => runRecord(r, `runs[${i}]`)),
  };
}
