/**
 * Webhook authentication, pure: which forge sent a request, and whether its signature (an
 * HMAC-SHA256 of the raw body) or token matches the secret, compared in constant time.
 */
import { createHmac } from 'node:crypto';
import type { RegistryProviderLabel, WebhookProviderLabel } from '../metrics/index.js';
import { digestsEqual, secretsEqual } from './constant_time.js';

export type Headers = Readonly<Record<string, string | string[] | undefined>>;

/** A forge of `POST /api/v1/webhook` (the registries have their own route, registry_webhook.ts). */
export type WebhookProvider = Exclude<WebhookProviderLabel, 'unknown' | RegistryProviderLabel>;

export type Verdict =
  | { readonly ok: true; readonly provider: WebhookProvider }
  | {
      readonly ok: false;
      readonly provider: Exclude<WebhookProviderLabel, RegistryProviderLabel>;
      readonly reason: string;
    };

interface ProviderRule {
  readonly provider: WebhookProvider;
  /** The header carrying the signature or token (lowercase). */
  readonly header: string;
  /** `hmac`: hex HMAC-SHA256 of the body after `prefix`; `token`: the secret itself. */
  readonly kind: 'hmac' | 'token';
  readonly prefix?: string;
  /** The header naming the event (lowercase). */
  readonly event: string;
}

/**
 * Most specific first: Forgejo also sends Gitea's and Gogs's headers, and Gitea and Forgejo also
 * send GitHub's `X-Hub-Signature-256`.
 */
const RULES: readonly ProviderRule[] = [
  { provider: 'forgejo', header: 'x-forgejo-signature', kind: 'hmac', event: 'x-forgejo-event' },
  { provider: 'gitea', header: 'x-gitea-signature', kind: 'hmac', event: 'x-gitea-event' },
  { provider: 'gogs', header: 'x-gogs-signature', kind: 'hmac', event: 'x-gogs-event' },
  { provider: 'gitlab', header: 'x-gitlab-token', kind: 'token', event: 'x-gitlab-event' },
  {
    provider: 'github',
    header: 'x-hub-signature-256',
    kind: 'hmac',
    prefix: 'sha256=',
    event: 'x-github-event',
  },
];

const HEX_SHA256 = /^[0-9a-f]{64}$/i;

/**
 * The secrets, one per kind: GitLab sends its token in clear in a header, so it is never the key
 * the other providers' HMAC signatures are checked with (whoever saw one GitLab delivery could
 * otherwise sign GitHub payloads). An empty one refuses its providers.
 */
export interface WebhookSecrets {
  /** `webhook.secret`: HMAC-SHA256 key of GitHub, Gitea, Forgejo and Gogs. */
  readonly hmac: string;
  /** `webhook.gitlabToken`: compared with `X-Gitlab-Token`. */
  readonly gitlab: string;
}

export function verifyWebhook(headers: Headers, raw: Buffer, secrets: WebhookSecrets): Verdict {
  const rule = RULES.find((r) => headers[r.header] !== undefined);
  if (rule === undefined) {
    return { ok: false, provider: providerByEvent(headers), reason: 'no signature or token header' };
  }
  const value = headers[rule.header];
  if (typeof value !== 'string') {
    return { ok: false, provider: rule.provider, reason: `repeated ${rule.header} header` };
  }
  const secret = rule.kind === 'token' ? secrets.gitlab : secrets.hmac;
  if (secret === '') {
    const key = rule.kind === 'token' ? 'webhook.gitlabToken' : 'webhook.secret';
    return {
      ok: false,
      provider: rule.provider,
      reason: `${rule.provider} webhooks need ${key}, which is not set`,
    };
  }
  const ok =
    rule.kind === 'token' ? secretsEqual(value, secret) : hmacMatches(value, rule.prefix ?? '', raw, secret);
  return ok
    ? { ok: true, provider: rule.provider }
    : {
        ok: false,
        provider: rule.provider,
        reason: `${rule.header} does not match ${rule.kind === 'token' ? 'webhook.gitlabToken' : 'the webhook secret'}`,
      };
}

/** The event a request announces (`push`, `ping`, `Push Hook`, …), if it names one. */
export function webhookEvent(headers: Headers, provider: WebhookProvider): string | undefined {
  const own = RULES.find((r) => r.provider === provider)?.event;
  for (const name of [own, ...RULES.map((r) => r.event)]) {
    const value = name === undefined ? undefined : headers[name];
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

function providerByEvent(headers: Headers): WebhookProvider | 'unknown' {
  return RULES.find((r) => headers[r.event] !== undefined)?.provider ?? 'unknown';
}

/** Whether `value` is `prefix` + the hex HMAC-SHA256 of `raw` keyed with `secret` (GitHub: `sha256=`). */
export function hmacMatches(value: string, prefix: string, raw: Buffer, secret: string): boolean {
  if (!value.toLowerCase().startsWith(prefix)) return false;
  const hex = value.slice(prefix.length).trim();
  if (!HEX_SHA256.test(hex)) return false;
  const expected = createHmac('sha256', secret).update(raw).digest();
  return digestsEqual(Buffer.from(hex, 'hex'), expected);
}
