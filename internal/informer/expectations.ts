/**
 * What a container event promises the next list will show. The engine logs some events before
 * its list view catches up (`die` is logged before the container is marked exited), so a list
 * right after the event can still show the old state; the informer re-lists until it agrees.
 */
import type { ContainerEvent } from './events.js';
import { backoffDelay, type Clock } from '../../pkg/clock/index.js';
import { LAG_RELIST, LAG_RELIST_ATTEMPTS } from '../schedule/index.js';
import type { ObservedContainer, ObservedProject } from './types.js';

/** True when the listed container (undefined: not listed) reflects the event. */
export type Expectation = (container: ObservedContainer | undefined) => boolean;

const notRunning: Expectation = (c) => c === undefined || c.state !== 'running';
const running: Expectation = (c) => c === undefined || c.state === 'running' || c.state === 'restarting';

/** The expectation an event action sets for its container; undefined when it promises nothing. */
export function expectationFor(action: string): Expectation | undefined {
  if (action.startsWith('health_status')) {
    const status = action.slice(action.indexOf(':') + 1).trim();
    const health = status === 'starting' ? 'starting' : status;
    return (c) => c === undefined || c.health === health;
  }
  switch (action) {
    case 'create':
      return (c) => c !== undefined;
    case 'start':
    case 'restart':
    case 'unpause':
      return running;
    case 'die':
    case 'stop':
      return notRunning;
    case 'pause':
      return (c) => c === undefined || c.state === 'paused';
    case 'destroy':
      return (c) => c === undefined;
    default:
      return undefined;
  }
}

/**
 * Tracks, per project, what the latest event of each container promises, and re-lists a project
 * (through `relist`, on the `LAG_RELIST` schedule of internal/schedule) until its list keeps those promises or the delays run out.
 */
export class LagTracker {
  readonly #clock: Clock;
  readonly #relist: (project: string) => void;
  /** Per project: container id → what its latest event says the next list must show. */
  readonly #expected = new Map<string, Map<string, Expectation>>();
  /** Per project: lag re-lists made since its last event. */
  readonly #retries = new Map<string, number>();
  /** Per project: the scheduled lag re-list, if any. */
  readonly #timers = new Map<string, unknown>();

  constructor(clock: Clock, relist: (project: string) => void) {
    this.#clock = clock;
    this.#relist = relist;
  }

  record(event: ContainerEvent): void {
    const expectation = expectationFor(event.action);
    if (expectation === undefined || event.id === '') return;
    const expected = this.#expected.get(event.project) ?? new Map<string, Expectation>();
    expected.set(event.id, expectation);
    this.#expected.set(event.project, expected);
    this.#retries.delete(event.project); // news: a fresh budget of lag re-lists
  }

  /** Check a fresh list of `project`; false when it still disagrees and no re-list is left. */
  verify(project: string, observed: ObservedProject | undefined): boolean {
    const expected = this.#expected.get(project);
    if (expected === undefined) return true;
    for (const [id, expectation] of expected) {
      if (expectation(observed?.containers.find((c) => c.id === id))) expected.delete(id);
    }
    const attempt = this.#retries.get(project) ?? 0;
    const delay = attempt < LAG_RELIST_ATTEMPTS ? backoffDelay(attempt, LAG_RELIST) : undefined;
    if (expected.size === 0 || delay === undefined) {
      this.#forget(project);
      return expected.size === 0;
    }
    if (!this.#timers.has(project)) {
      this.#retries.set(project, attempt + 1);
      const timer = this.#clock.setTimeout(() => {
        this.#timers.delete(project);
        this.#relist(project);
      }, delay);
      this.#timers.set(project, timer);
    }
    return true;
  }

  clear(): void {
    for (const timer of this.#timers.values()) this.#clock.clearTimeout(timer);
    this.#timers.clear();
    this.#retries.clear();
    this.#expected.clear();
  }

  #forget(project: string): void {
    this.#clock.clearTimeout(this.#timers.get(project));
    this.#timers.delete(project);
    this.#retries.delete(project);
    this.#expected.delete(project);
  }
}
