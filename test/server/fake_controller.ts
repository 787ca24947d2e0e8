/** A ServerController that records what the API asks of it; the real Controller is tested end to end elsewhere. */
import type { ImagePush, ServerController, StackDetail } from '../../internal/server/index.js';
import type { RunRecord } from '../../internal/state/index.js';
import type { StackStatus, StacksResponse } from '../../internal/status/index.js';

export function stackStatus(id: string, overrides: Partial<StackStatus> = {}): StackStatus {
  return {
    id,
    project: id.replace(/[^a-z0-9_-]/g, '_'),
    status: 'synced',
    message: '',
    desired: { revision: 'c0ffee', composeHash: `sha256:${'a'.repeat(64)}` },
    synced: { revision: 'c0ffee', composeHash: `sha256:${'a'.repeat(64)}`, at: '2024-05-01T10:00:00.000Z' },
    lastResult: { outcome: 'success', at: '2024-05-01T10:00:00.000Z', message: '', durationMs: 812 },
    services: [{ name: 'web', state: 'running', health: null, inSync: true, restarts: 0 }],
    rollback: null,
    suspended: null,
    ...overrides,
  };
}

export class FakeController implements ServerController {
  readonly refreshCalls: string[] = [];
  readonly syncCalls: string[] = [];
  readonly pruneCalls: string[] = [];
  readonly reconcileCalls: boolean[] = [];
  readonly suspendCalls: [string, string | null][] = [];
  reconcileEnabled = true;
  isReady = true;
  revision: string | null = 'c0ffee';
  source: StacksResponse['source'] = {
    url: 'https://git.example.test/ops/stacks.git',
    branch: 'main',
    lastSuccessAt: '2024-05-01T10:00:00.000Z',
    lastError: null,
    lastErrorAt: null,
    failingSince: null,
  };
  details = new Map<string, StackDetail>([
    ['apps/web', { ...stackStatus('apps/web'), history: [] }],
    ['db', { ...stackStatus('db', { status: 'failed', message: 'boom' }), history: [] }],
  ]);
  runList: RunRecord[] = [
    {
      id: 1,
      trigger: 'startup',
      revision: 'c0ffee',
      startedAt: '2024-05-01T10:00:00.000Z',
      finishedAt: '2024-05-01T10:00:01.000Z',
      stacks: [{ id: 'apps/web', outcome: 'synced', message: '' }],
    },
  ];
  /** What `refresh` returns; by default a promise that never settles (the API must not wait). */
  refreshResult: () => Promise<void> = () => new Promise<void>(() => undefined);

  stacks(): StacksResponse {
    return {
      revision: this.revision,
      fetchedAt: this.revision === null ? null : '2024-05-01T10:00:00.000Z',
      reconcileEnabled: this.reconcileEnabled,
      source: this.source,
      stacks: [...this.details.values()].map(({ history: _history, ...status }) => status),
    };
  }

  stack(id: string): StackDetail | undefined {
    return this.details.get(id);
  }

  runs(): readonly RunRecord[] {
    return this.runList;
  }

  refresh(trigger: string): Promise<void> {
    this.refreshCalls.push(trigger);
    return this.refreshResult();
  }

  suspend(id: string, reason: string | null): boolean {
    const detail = this.details.get(id);
    if (detail === undefined) return false;
    this.suspendCalls.push([id, reason]);
    const suspended = reason === null ? null : { reason, by: 'api' as const, at: '2024-05-01T10:00:00.000Z' };
    this.details.set(id, { ...detail, suspended });
    return true;
  }

  sync(id: string, options: { readonly prune?: boolean } = {}): boolean {
    if (!this.details.has(id)) return false;
    this.syncCalls.push(id);
    if (options.prune === true) this.pruneCalls.push(id);
    return true;
  }

  setReconcileEnabled(enabled: boolean): void {
    this.reconcileCalls.push(enabled);
    this.reconcileEnabled = enabled;
  }

  ready(): boolean {
    return this.isReady;
  }

  readonly #listeners = new Set<() => void>();

  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Tells the listeners (the event stream) that something changed. */
  changed(): void {
    for (const listener of this.#listeners) listener();
  }

  get listeners(): number {
    return this.#listeners.size;
  }
}

/** A FakeController that also takes registry pushes (`imagesPushed`), recording each call. */
export class PushAwareController extends FakeController {
  readonly pushCalls: { readonly pushes: readonly ImagePush[]; readonly source: string }[] = [];
  /** What `imagesPushed` answers: how many watched services use the pushes. */
  matched = 2;

  imagesPushed(pushes: readonly ImagePush[], source: string): number {
    this.pushCalls.push({ pushes, source });
    return this.matched;
  }
}
