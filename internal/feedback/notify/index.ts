/** Notification targets: rendering a notification per target type, and delivering requests. */
export {
  DISCORD_MAX_CONTENT,
  MAX_LISTED_STACKS,
  MAX_MESSAGE_CHARS,
  WEBHOOK_VERSION,
  humanText,
  joinUrl,
  renderNotification,
  verifyWebhookSignature,
  webhookSignature,
  type HumanText,
} from './render.js';
export {
  DEFAULT_BACKOFF,
  DEFAULT_QUEUE_LIMIT,
  DEFAULT_RETRIES,
  DEFAULT_TIMEOUT_MS,
  Delivery,
  type DeliveryDetail,
  type DeliveryOptions,
  type OnResult,
  type Sender,
} from './deliver.js';
