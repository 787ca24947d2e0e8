/**
 * `POST /api/v1/webhook/registry`: a registry's push notification. It names the tags pushed; the
 * controller checks the services using them at once (`imagesPushed`), without waiting for its
 * next digest poll. Authenticated like the Git webhook, by whatever the sender can send: GitHub
 * signs its `package` events (HMAC with `webhook.secret`); docker-registry and Docker Hub present
 * `webhook.registryToken`, as `Authorization: Bearer <token>` (docker-registry's notification
 * headers) or as the `token` query parameter (Docker Hub, which is given a URL only). The token
 * is compared in constant time and never logged: no line of this route names the request's URL.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../log/index.js';
import type { Metrics, RegistryProviderLabel } from '../metrics/index.js';
import { secretsEqual } from './constant_time.js';
import { registerRawBodyRoute } from './raw_body.js';
import type { ImagePush } from './options.js';
import { type RegistryNotice, parseGithubPackage, parseTokenPayload } from './registry_payload.js';
import { DeliveryLog } from './webhook_dedup.js';
import { PayloadError, readJsonObject } from './webhook_payload.js';
import { type Headers, hmacMatches } from './webhook_signature.js';
import { LogEvent } from '../log/index.js';

export const REGISTRY_WEBHOOK_PATH = '/api/v1/webhook/registry';

export interface RegistryWebhookOptions {
  /** The controller's `imagesPushed`: answers how many watched services use the pushes. */
  readonly imagesPushed: (pushes: readonly ImagePush[], source: string) => number;
  readonly logger: Logger;
  readonly metrics: Pick<Metrics, 'webhook'>;
  /** `hmac`: `webhook.secret` (GitHub); `token`: `webhook.registryToken`. An empty one refuses its senders. */
  readonly secrets: { readonly hmac: string; readonly token: string };
  /** Verified deliveries seen recently: a replay is answered without a check. @default a new log */
  readonly deliveries?: DeliveryLog;
}

type Verdict =
  | {
      readonly ok: true;
      readonly kind: 'github' | 'token';
      /** For a token, a guess (from the headers) until the body is read. */
      readonly provider: RegistryProviderLabel | 'unknown';
    }
  | { readonly ok: false; readonly provider: RegistryProviderLabel | 'unknown'; readonly reason: string };

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;
const DISTRIBUTION_TYPE = /^application\/vnd\.docker\.distribution\.events\.v\d+\+json/i;

export function registerRegistryWebhookRoute(app: FastifyInstance, webhook: RegistryWebhookOptions): void {
  const options = { ...webhook, deliveries: webhook.deliveries ?? new DeliveryLog() };
  // Raw bytes, as for the Git webhook: they are what GitHub's HMAC covers.
  registerRawBodyRoute(app, REGISTRY_WEBHOOK_PATH, (request, reply) => handle(options, request, reply));
}

function handle(
  o: RegistryWebhookOptions & { readonly deliveries: DeliveryLog },
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  const remote = request.socket.remoteAddress;
  const verdict = authenticate(request.headers, request.query, raw, o.secrets);
  if (!verdict.ok) {
    o.metrics.webhook(verdict.provider, 'rejected');
    o.logger.warn(`registry webhook rejected: ${verdict.reason}`, {
      event: LogEvent.webhookRejected,
      provider: verdict.provider,
      remote,
      reason: verdict.reason,
    });
    return reply
      .code(401)
      .header('www-authenticate', 'Bearer realm="stackd"')
      .send({ error: 'missing or invalid webhook token or signature' });
  }
  let { provider } = verdict;
  const replay = o.deliveries.replayOf(request.headers, raw);
  if (replay !== undefined) {
    o.metrics.webhook(provider, 'duplicate');
    o.logger.info(`registry webhook delivery already handled (${replay}): nothing to do`, {
      event: LogEvent.webhookDuplicate,
      provider,
      remote,
      reason: replay,
    });
    return reply.code(200).send({ duplicate: true });
  }

  if (verdict.kind === 'github') {
    const event = header(request.headers, 'x-github-event')?.toLowerCase() ?? '';
    if (event !== 'package') {
      const ping = event === 'ping';
      const reason = ping ? 'ping' : `event ${event} is not a package event`;
      o.metrics.webhook(provider, ping ? 'ping' : 'ignored');
      o.logger.info(`registry webhook ${ping ? 'ping' : `event ${event} ignored`}`, {
        event: ping ? LogEvent.webhookPing : LogEvent.webhookIgnored,
        provider,
        remote,
        webhookEvent: event,
        reason,
      });
      return reply.code(200).send({ ignored: true, reason });
    }
  }

  let notice: RegistryNotice;
  try {
    const body = readJsonObject(raw, request.headers['content-type']);
    notice = verdict.kind === 'github' ? parseGithubPackage(body) : parseTokenPayload(body);
  } catch (error) {
    if (!(error instanceof PayloadError)) throw error;
    o.metrics.webhook(provider, 'invalid');
    o.logger.warn(`registry webhook payload refused: ${error.message}`, {
      event: LogEvent.webhookInvalid,
      provider,
      remote,
      reason: error.message,
    });
    return reply.code(400).send({ error: error.message });
  }
  provider = notice.provider;

  if (notice.ignored !== undefined) {
    o.metrics.webhook(provider, 'ignored');
    o.logger.info(`registry webhook ignored: ${notice.ignored}`, {
      event: LogEvent.webhookIgnored,
      provider,
      remote,
      reason: notice.ignored,
    });
    return reply.code(200).send({ ignored: true, reason: notice.ignored });
  }

  const accepted = notice.pushes.map((p) => `${p.name}:${p.tag}`);
  const matched = o.imagesPushed(notice.pushes, `webhook:${provider}`);
  o.metrics.webhook(provider, 'accepted');
  o.logger.info(
    `registry webhook: ${accepted.join(', ')} pushed, used by ${matched} watched service${matched === 1 ? '' : 's'}`,
    { event: LogEvent.webhookAccepted, provider, remote, images: accepted, matched },
  );
  return reply.code(202).send({ accepted, matched });
}

/** GitHub (it names its event) must sign; every other sender presents the registry token. */
function authenticate(
  headers: Headers,
  query: unknown,
  raw: Buffer,
  secrets: RegistryWebhookOptions['secrets'],
): Verdict {
  if (headers['x-github-event'] !== undefined) {
    const signature = headers['x-hub-signature-256'];
    const fail = (reason: string): Verdict => ({ ok: false, provider: 'ghcr', reason });
    if (secrets.hmac === '') return fail('GitHub package webhooks need webhook.secret, which is not set');
    if (signature === undefined) return fail('no X-Hub-Signature-256 header');
    if (typeof signature !== 'string') return fail('repeated x-hub-signature-256 header');
    return hmacMatches(signature, 'sha256=', raw, secrets.hmac)
      ? { ok: true, kind: 'github', provider: 'ghcr' }
      : fail('x-hub-signature-256 does not match the webhook secret');
  }
  const authorization = headers['authorization'];
  const fromQuery = (query as Readonly<Record<string, unknown>> | undefined)?.['token'];
  const provider =
    authorization === undefined && fromQuery !== undefined
      ? 'dockerhub'
      : DISTRIBUTION_TYPE.test(header(headers, 'content-type') ?? '') || authorization !== undefined
        ? 'distribution'
        : 'unknown';
  const fail = (reason: string): Verdict => ({ ok: false, provider, reason });
  if (secrets.token === '') return fail('registry webhooks need webhook.registryToken, which is not set');
  let token: string;
  if (authorization !== undefined) {
    const match = typeof authorization === 'string' ? BEARER.exec(authorization) : null;
    if (match?.[1] === undefined) return fail('the Authorization header is not Bearer <token>');
    token = match[1];
  } else if (fromQuery !== undefined) {
    if (typeof fromQuery !== 'string') return fail('repeated token query parameter');
    token = fromQuery;
  } else {
    return fail('no token: send Authorization: Bearer <webhook.registryToken> or ?token=');
  }
  return secretsEqual(token, secrets.token)
    ? { ok: true, kind: 'token', provider }
    : fail('the token does not match webhook.registryToken');
}

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' ? value : undefined;
}
