/** What the HTTP server needs: the controller's face, the logger, secrets and the metrics. */
import type { Clock } from '../../pkg/clock/index.js';
import type { Logger } from '../log/index.js';
import type { Metrics } from '../metrics/index.js';
import type { RunRecord } from '../state/index.js';
import type { StackDetail, StacksResponse } from '../status/index.js';

export type { StackDetail } from '../status/index.js';

/** The controller as the API sees it; the real `Controller` satisfies it structurally. */
export interface ServerController {
  stacks(): StacksResponse;
  /** Undefined when no such stack is known. */
  stack(id: string): StackDetail | undefined;
  runs(): readonly RunRecord[];
  /** A refresh, coalesced with any other in flight; rejects when the fetch fails. */
  refresh(trigger: string, revision?: string): Promise<void>;
  /**
   * Reconcile one stack now, even if it looks in sync (with `prune`: remove it this once if it is
   * gone from Git, even with reconcile.prune off); false when no such stack is known.
   */
  sync(id: string, options?: { readonly prune?: boolean }): boolean;
  setReconcileEnabled(enabled: boolean): void;
  /**
   * Suspend one stack (with a reason) or resume it (null), kept across restarts; false when no
   * such stack is known.
   */
  suspend(id: string, reason: string | null): boolean;
  readonly reconcileEnabled: boolean;
  /**
   * Calls `listener` whenever what `stacks()`, `stack()` or `runs()` answer may have changed;
   * returns the unsubscribe. Without it, `GET /api/v1/events` answers 404.
   */
  onChange?(listener: () => void): () => void;
  /** A desired state is known and the Docker engine answers (and starts containers). */
  ready(): boolean;
  /** Why it is not ready, when it is not (else the probe guesses from `stacks()`). */
  notReadyReason?(): string | undefined;
  /**
   * Registry pushes of `name:tag` (name = canonical `registry/repository` from
   * internal/images/reference.ts): check the services using them now; answers how many watched
   * services use them. `source` says who told (`webhook:distribution`, `webhook:dockerhub`,
   * `webhook:ghcr`). Without it, `POST /api/v1/webhook/registry` answers 404.
   */
  imagesPushed?(pushes: readonly ImagePush[], source: string): number;
}

/** One pushed tag: `{ name: 'localhost:5000/app', tag: '1' }`. */
export interface ImagePush {
  readonly name: string;
  readonly tag: string;
}

export interface ServerOptions {
  readonly controller: ServerController;
  readonly logger: Logger;
  /**
   * `server.token`: when set, every `/api/v1` endpoint but the webhook needs
   * `Authorization: Bearer <token>`; when not, mutating endpoints accept loopback clients only.
   */
  readonly token?: string | undefined;
  /** `webhook.secret`: the HMAC secret of GitHub, Gitea, Forgejo and Gogs webhooks. */
  readonly webhookSecret?: string | undefined;
  /** `webhook.gitlabToken`: GitLab's token; with neither it nor `webhookSecret`, the webhook answers 404. */
  readonly gitlabToken?: string | undefined;
  /**
   * `webhook.registryToken`: the token of docker-registry and Docker Hub push webhooks; with
   * neither it nor `webhookSecret` (GitHub package events), the registry webhook answers 404.
   */
  readonly registryToken?: string | undefined;
  /** `server.allowedHosts`: names the API answers to besides its own (see origin.ts). */
  readonly allowedHosts?: readonly string[];
  /** `server.allowedOrigins`: web origins whose pages may call the API. */
  readonly allowedOrigins?: readonly string[];
  /** `source.branch`: webhook pushes to any other branch are ignored. */
  readonly branch: string;
  readonly metrics: Pick<Metrics, 'registry' | 'render' | 'webhook'> & Partial<Pick<Metrics, 'eventStreams'>>;
  /** `instance`: the status page's title. */
  readonly instance?: string;
  /** stackd's version, reported by `/healthz`. */
  readonly version: string;
  /** Largest request body accepted, in bytes; larger ones get 413. @default 1 MiB */
  readonly bodyLimit?: number;
  /**
   * `source.webUrl`: the repository's web address; the status page links revisions to
   * `<webUrl>/commit/<sha>`. Empty: no links.
   */
  readonly webUrl?: string;
  /** Timers of the event stream. @default realClock */
  readonly clock?: Clock;
  /** How long `close()` waits for requests in flight before cutting their connections. @default 10 s */
  readonly closeGraceMs?: number;
}
