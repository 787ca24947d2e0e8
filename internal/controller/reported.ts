/**
 * The reported-stack set: the stack ids the API lists, whose series /metrics exports. Whenever the
 * set is recomputed, the hooks learn which stacks left it (`stackGone`: their series go) and which
 * joined it without a record yet (reported `unknown`, as the API does).
 */
import type { StackRecord, StateStore } from '../state/index.js';
import type { ControllerHooks } from './hooks.js';

/** What the hooks are told about a stack that is reported but has no record yet. */
const UNKNOWN_RECORD: StackRecord = Object.freeze({
  project: '',
  status: 'unknown',
  message: '',
  synced: null,
  lastResult: null,
  services: Object.freeze([]),
  history: Object.freeze([]),
});

/**
 * Walks two lists sorted in code-unit order (`Array.prototype.sort`'s default) and calls `removed`
 * for each id only in `before`, `added` for each only in `after`. Allocates nothing.
 */
export function diffSorted(
  before: readonly string[],
  after: readonly string[],
  removed: (id: string) => void,
  added: (id: string) => void,
): void {
  let i = 0;
  let j = 0;
  while (i < before.length || j < after.length) {
    const b = before[i];
    const a = after[j];
    if (b === a) {
      i++;
      j++;
    } else if (a === undefined || (b !== undefined && b < a)) {
      removed(b as string);
      i++;
    } else {
      added(a);
      j++;
    }
  }
}

export class ReportedStacks {
  readonly #state: StateStore;
  readonly #hooks: ControllerHooks | undefined;
  /**
   * The stack ids last reported (sorted as `knownIds()` sorts): the hooks have been told about
   * these, and are told when one leaves (`stackGone`) or a new one has no record yet (`unknown`).
   */
  #reported: readonly string[] = [];

  constructor(state: StateStore, hooks?: ControllerHooks) {
    this.#state = state;
    this.#hooks = hooks;
  }

  /**
   * Whoever wired the hooks may have told them about every recorded stack, in scope or not
   * (`stackd run` does, and already serves /metrics): start from that set, so the first
   * `report` takes out-of-scope ones away.
   */
  assumeRecorded(): void {
    this.#reported = Object.keys(this.#state.data.stacks).sort();
  }

  /**
   * `ids` (sorted, from `knownIds()`) is now the set of stacks reported. One merge walk over two
   * sorted lists: nothing allocated.
   */
  report(ids: readonly string[]): void {
    const hooks = this.#hooks;
    if (hooks?.stackGone !== undefined || hooks?.stackRecord !== undefined) {
      diffSorted(
        this.#reported,
        ids,
        (id) => hooks.stackGone?.(id),
        (id) => {
          if (this.#state.stack(id) === undefined) hooks.stackRecord?.(id, UNKNOWN_RECORD);
        },
      );
    }
    this.#reported = ids;
  }
}
