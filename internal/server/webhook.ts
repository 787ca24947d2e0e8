/**
 * `POST /api/v1/webhook`: a forge's push notification. Authenticated by signature over the raw
 * body (so this route keeps the body as bytes); a push to the configured branch triggers a
 * refresh, which the controller coalesces with any other in flight.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../log/index.js';
import type { Metrics } from '../metrics/index.js';
import type { ServerController } from './options.js';
import { registerRawBodyRoute } from './raw_body.js';
import { DeliveryLog } from './webhook_dedup.js';
import { PayloadError, parsePayload } from './webhook_payload.js';
import { type WebhookSecrets, verifyWebhook, webhookEvent } from './webhook_signature.js';
import { LogEvent } from '../log/index.js';

export interface WebhookOptions {
  readonly controller: ServerController;
  readonly logger: Logger;
  readonly metrics: Pick<Metrics, 'webhook'>;
  readonly secrets: WebhookSecrets;
  readonly branch: string;
  /** Verified deliveries seen recently: a replay is answered without a refresh. @default a new log */
  readonly deliveries?: DeliveryLog;
}

/** Event names that announce a push (GitHub, Gitea, Forgejo, Gogs: `push`; GitLab: `Push Hook`). */
const PUSH_EVENTS = new Set(['push', 'push hook']);

export function registerWebhookRoute(app: FastifyInstance, webhook: WebhookOptions): void {
  const options = { ...webhook, deliveries: webhook.deliveries ?? new DeliveryLog() };
  // Raw bytes: the HMAC covers them as sent.
  registerRawBodyRoute(app, '/api/v1/webhook', (request, reply) => handleWebhook(options, request, reply));
}

function handleWebhook(
  o: WebhookOptions & { readonly deliveries: DeliveryLog },
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
  const remote = request.socket.remoteAddress;
  const verdict = verifyWebhook(request.headers, raw, o.secrets);
  if (!verdict.ok) {
    o.metrics.webhook(verdict.provider, 'rejected');
    o.logger.warn(`webhook rejected: ${verdict.reason}`, {
      event: LogEvent.webhookRejected,
      provider: verdict.provider,
      remote,
      reason: verdict.reason,
    });
    return reply.code(401).send({ error: 'missing or invalid webhook signature' });
  }
  const { provider } = verdict;
  const replay = o.deliveries.replayOf(request.headers, raw);
  if (replay !== undefined) {
    o.metrics.webhook(provider, 'duplicate');
    o.logger.info(`webhook delivery already handled (${replay}): nothing to do`, {
      event: LogEvent.webhookDuplicate,
      provider,
      remote,
      reason: replay,
    });
    return reply.code(200).send({ duplicate: true });
  }

  const event = webhookEvent(request.headers, provider);
  if (event !== undefined && !PUSH_EVENTS.has(event.toLowerCase())) {
    const ping = event.toLowerCase() === 'ping';
    o.metrics.webhook(provider, ping ? 'ping' : 'ignored');
    o.logger.info(`webhook ${ping ? 'ping' : `event ${event} ignored`}`, {
      event: ping ? LogEvent.webhookPing : LogEvent.webhookIgnored,
      provider,
      remote,
      webhookEvent: event,
      reason: ping ? 'ping' : 'not a push event',
    });
    return reply.code(200).send({ ignored: true, event });
  }

  let ref: string | undefined;
  let after: string | undefined;
  try {
    ({ ref, after } = parsePayload(raw, request.headers['content-type']));
    if (ref === undefined) throw new PayloadError('the push payload has no ref');
  } catch (error) {
    if (!(error instanceof PayloadError)) throw error;
    o.metrics.webhook(provider, 'invalid');
    o.logger.warn(`webhook payload refused: ${error.message}`, {
      event: LogEvent.webhookInvalid,
      provider,
      remote,
      reason: error.message,
    });
    return reply.code(400).send({ error: error.message });
  }

  const wanted = `refs/heads/${o.branch}`;
  if (ref !== wanted) {
    o.metrics.webhook(provider, 'ignored');
    o.logger.info(`webhook push to ${ref} ignored: stackd follows ${wanted}`, {
      event: LogEvent.webhookIgnored,
      provider,
      remote,
      ref,
      reason: `not ${wanted}`,
    });
    return reply.code(202).send({ ignored: true, ref });
  }

  o.metrics.webhook(provider, 'accepted');
  o.logger.info(`webhook push to ${ref}: refreshing`, {
    event: LogEvent.webhookAccepted,
    provider,
    remote,
    ref,
    revision: after ?? null,
  });
  // Not awaited: a burst of pushes coalesces into one refresh in the controller, which logs the outcome.
  o.controller.refresh('webhook', after).catch(() => undefined);
  return reply.code(202).send({ accepted: true });
}
