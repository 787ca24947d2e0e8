/**
 * Which commit statuses to post (`scm.commitStatus`): per stack, context
 * `stackd/<instance>/<stack>` on the desired revision — `pending` when an apply of a changed stack
 * starts, then `success` once it is synced or `failure` with the message once it failed. An apply
 * that only repairs drift (a self-heal) and a commit that does not touch a stack post nothing. Retries of a failing stack do not post
 * `pending` again on the same commit; the client drops a status identical to the last one.
 */
import type { StackRecord } from '../state/index.js';
import type { RevisionHash } from '../status/index.js';
import type { CommitStatus } from './types.js';

export interface CommitStatusReporterOptions {
  readonly instance: string;
  /** Queues one status (never blocks, never throws). */
  readonly post: (status: CommitStatus) => void;
}

export class CommitStatusReporter {
  readonly #o: CommitStatusReporterOptions;
  /** By stack: the commit whose apply is under way, waiting for its verdict. */
  readonly #open = new Map<string, string>();
  /** By stack: the last commit a status was posted on. */
  readonly #posted = new Map<string, string>();

  constructor(options: CommitStatusReporterOptions) {
    this.#o = options;
  }

  /** An attempt at the desired stack starts; a self-heal (`driftOnly`) is no news for the commit. */
  applyStarted(id: string, target: RevisionHash, driftOnly: boolean): void {
    if (driftOnly) return;
    this.#open.set(id, target.revision);
    if (this.#posted.get(id) === target.revision) return;
    this.#posted.set(id, target.revision);
    this.#post(id, target.revision, 'pending', `deploying ${id}`);
  }

  /** A stack's record was written: the verdict of an open apply, once it is settled. */
  record(id: string, record: StackRecord): void {
    const sha = this.#open.get(id);
    if (sha === undefined) return;
    if (record.status === 'synced' && record.synced?.revision === sha) {
      this.#open.delete(id);
      this.#post(id, sha, 'success', `${id} synced`);
    } else if (record.status === 'failed') {
      this.#open.delete(id);
      this.#post(id, sha, 'failure', record.message.replace(/\s+/g, ' ').trim() || `${id} failed`);
    }
    // syncing, out_of_sync (a newer commit came during the apply): still open.
  }

  #post(id: string, sha: string, state: CommitStatus['state'], description: string): void {
    this.#o.post({ sha, context: `stackd/${this.#o.instance}/${id}`, state, description });
  }
}
