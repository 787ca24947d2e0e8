/**
 * Feedback to where operators look (issue 15): the shapes shared by the notification targets
 * (notify/), the commit status clients (scm/) and the transition tracker that feeds them.
 */
import type { ServiceChangeWhy } from '../status/index.js';

/** What a notification is about; `synced` is sent only when `notify.events` lists it. */
export const NOTIFY_EVENTS = ['failed', 'recovered', 'rolled_back', 'removed', 'synced'] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

/** One service's change in an apply, in the words of the plan (`image`, `file conf/app.conf`, …). */
export type { ServiceChangeWhy } from '../status/index.js';

/** One stack in a notification. */
export interface StackNotice {
  readonly id: string;
  /** The stack's status when the notice was taken (failed, synced, missing, …). */
  readonly status: string;
  /** The failure, rollback or removal in words (the stack's message); '' when none. */
  readonly message: string;
  /** The desired (or, for `recovered`/`synced`, the synced) revision; null when not known. */
  readonly revision: string | null;
  readonly composeHash: string | null;
  /** What the last apply changed, by service (empty when not known). */
  readonly changes: readonly ServiceChangeWhy[];
  /** RFC 3339: when the transition happened. */
  readonly at: string;
  /** True for a failure notified again after `notify.repeatInterval` (same reason). */
  readonly repeated?: boolean;
}

/** One message: one event kind, every stack that reached it in the same burst. */
export interface Notification {
  /** The stackd instance (`instance` config key). */
  readonly instance: string;
  readonly event: NotifyEvent;
  /** RFC 3339: when the message was composed. */
  readonly at: string;
  readonly stacks: readonly StackNotice[];
}

export const TARGET_TYPES = ['webhook', 'ntfy', 'gotify', 'slack', 'discord'] as const;
export type TargetType = (typeof TARGET_TYPES)[number];

/** A notification target with its secret resolved (config: `notify.targets[]`). */
export interface NotifyTarget {
  /** Names the target in logs and metrics (never its URL, which may hold a token). */
  readonly name: string;
  readonly type: TargetType;
  /** Where to POST: the webhook URL, the ntfy topic URL, the Gotify server's base URL, … */
  readonly url: string;
  /**
   * webhook: the HMAC-SHA256 key of X-Stackd-Signature-256; ntfy: an access token (Bearer);
   * gotify: the application token (X-Gotify-Key); slack, discord: unused (the URL is the secret).
   * '' when none.
   */
  readonly secret: string;
  /** The events this target gets; undefined: `notify.events`. */
  readonly events?: readonly NotifyEvent[];
}

/** One HTTP request to send (POST). */
export interface OutboundRequest {
  readonly url: string;
  readonly method: 'POST';
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** How one delivery (all its attempts) ended. */
export type DeliveryResult = 'sent' | 'failed';

export const SCM_PROVIDERS = ['github', 'gitea', 'gitlab'] as const;
export type ScmProvider = (typeof SCM_PROVIDERS)[number];

/** Commit status, in stackd's words; each provider maps it to its own (`failure` → GitLab `failed`). */
export type CommitState = 'pending' | 'success' | 'failure';

/** Where commit statuses go (config: `scm.*`), the token resolved. */
export interface ScmTarget {
  readonly provider: ScmProvider;
  /** API base: `https://api.github.com`, `https://gitea.example.com`, `https://gitlab.example.com`. */
  readonly baseUrl: string;
  /** `owner/repo` (GitLab: the project's full path, `group/subgroup/project`). */
  readonly repository: string;
  readonly token: string;
  /** Linked from each status (`target_url`); '' for none. */
  readonly targetUrl: string;
}

/** One status on one commit. */
export interface CommitStatus {
  /** The full commit SHA. */
  readonly sha: string;
  /** `stackd/<instance>/<stack>`. */
  readonly context: string;
  readonly state: CommitState;
  /** Truncated by the client to the provider's limit. */
  readonly description: string;
}
