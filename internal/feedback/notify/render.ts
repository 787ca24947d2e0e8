/**
 * Notification → HTTP request, per target type (issue 15): stackd's own signed JSON webhook, ntfy,
 * Gotify, Slack-compatible incoming webhooks and Discord webhooks. Pure: no I/O, no clock.
 */

import { createHmac, timingSafeEqual } from 'node:crypto';

import type { Notification, NotifyEvent, NotifyTarget, OutboundRequest, StackNotice } from '../types.js';

/** The version of the generic webhook's JSON body; bumped only on an incompatible change. */
export const WEBHOOK_VERSION = 1;
/** Each stack's message: its first line, at most this many characters. */
export const MAX_MESSAGE_CHARS = 300;
/** Stacks listed in one message; the rest are counted ("… and N more stacks"). */
export const MAX_LISTED_STACKS = 20;
/** Changes listed per stack. */
export const MAX_LISTED_CHANGES = 10;
/** Discord rejects a `content` longer than this. */
export const DISCORD_MAX_CONTENT = 2000;
/** ntfy makes a longer message body an attachment (its `message-size-limit` default, 4 KiB). */
export const NTFY_MAX_BYTES = 4096;
/** Slack truncates a message's `text` beyond 40 000 characters; stay well below. */
export const SLACK_MAX_TEXT = 10_000;

const USER_AGENT = 'stackd';
const JSON_TYPE = 'application/json';

/** The human words of one notification, shared by every target. */
export interface HumanText {
  readonly title: string;
  readonly text: string;
}

/** Characters, not UTF-16 units: an emoji is never cut in half. */
function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

const PAST: Record<NotifyEvent, string> = {
  failed: 'failed',
  recovered: 'recovered',
  rolled_back: 'rolled back',
  removed: 'removed',
  synced: 'synced',
};

function isRepeat(n: Notification): boolean {
  return n.event === 'failed' && n.stacks.length > 0 && n.stacks.every((s) => s.repeated === true);
}

function title(n: Notification): string {
  const verb = isRepeat(n) ? 'still failing' : PAST[n.event];
  const first = n.stacks[0];
  const subject = n.stacks.length === 1 && first !== undefined ? first.id : `${n.stacks.length} stacks`;
  return truncate(`stackd ${n.instance}: ${subject} ${verb}`, MAX_MESSAGE_CHARS);
}

function firstLine(message: string): string {
  return truncate((message.split(/\r?\n/, 1)[0] ?? '').trim(), MAX_MESSAGE_CHARS);
}

/** One stack's lines: `apps/web — <message> (rev abc1234)` then its changes, indented. */
function stackBlock(event: NotifyEvent, s: StackNotice): string {
  const message = firstLine(s.message);
  let what: string;
  if (event === 'failed' && s.repeated === true) {
    what = message === '' ? 'still failing' : `still failing: ${message}`;
  } else if (message !== '') {
    what = message;
  } else {
    what = event === 'failed' ? `failed (${s.status})` : PAST[event];
  }
  let head = `${s.id} — ${what}`;
  if (s.revision !== null && s.revision !== '') head += ` (rev ${s.revision.slice(0, 7)})`;
  const lines = [head];
  for (const c of s.changes.slice(0, MAX_LISTED_CHANGES)) {
    lines.push(`  ${truncate(`${c.service}: ${c.why === '' ? c.change : c.why}`, 200)}`);
  }
  if (s.changes.length > MAX_LISTED_CHANGES) {
    lines.push(`  … and ${s.changes.length - MAX_LISTED_CHANGES} more changes`);
  }
  return lines.join('\n');
}

function more(count: number): string {
  return `… and ${count} more stack${count === 1 ? '' : 's'}`;
}

/**
 * The list of stacks, at most MAX_LISTED_STACKS of them and at most `maxChars` long (as `measure`
 * counts): whole stacks are dropped from the end (and counted) rather than cut mid-line.
 */
function stackList(n: Notification, maxChars: number, measure: Measure = chars): string {
  const blocks = n.stacks.map((s) => stackBlock(n.event, s));
  const total = blocks.length;
  let shown = Math.min(total, MAX_LISTED_STACKS);
  const render = (k: number): string =>
    [...blocks.slice(0, k), ...(k < total ? [more(total - k)] : [])].join('\n');
  let text = render(shown);
  while (shown > 1 && measure(text) > maxChars) text = render(--shown);
  while (measure(text) > maxChars && text.length > 1) text = truncate(text, Array.from(text).length - 16);
  return text;
}

/** How a target counts a text's length. */
type Measure = (text: string) => number;

function chars(text: string): number {
  return Array.from(text).length;
}

function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** The title and text every target shows (webhook `title`/`text`, ntfy, Gotify, Slack, Discord). */
export function humanText(n: Notification, maxChars = 20_000, measure: Measure = chars): HumanText {
  return { title: title(n), text: stackList(n, maxChars, measure) };
}

/** The `X-Stackd-Signature-256` value of `body`: `sha256=` and the hex HMAC-SHA256 (like GitHub's). */
export function webhookSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** True when `header` is the signature of the exact `body` under `secret` (constant-time compare). */
export function verifyWebhookSignature(secret: string, body: string, header: string | undefined): boolean {
  if (header === undefined || secret === '') return false;
  const expected = Buffer.from(webhookSignature(secret, body), 'utf8');
  const given = Buffer.from(header.trim(), 'utf8');
  return expected.length === given.length && timingSafeEqual(expected, given);
}

function renderWebhook(target: NotifyTarget, n: Notification, deliveryId: string): OutboundRequest {
  const { title: t, text } = humanText(n);
  const body = JSON.stringify({
    version: WEBHOOK_VERSION,
    instance: n.instance,
    event: n.event,
    at: n.at,
    title: t,
    text,
    stacks: n.stacks,
  });
  const headers: Record<string, string> = {
    'Content-Type': JSON_TYPE,
    'User-Agent': USER_AGENT,
    'X-Stackd-Event': n.event,
    'X-Stackd-Delivery': deliveryId,
  };
  if (target.secret !== '') headers['X-Stackd-Signature-256'] = webhookSignature(target.secret, body);
  return { url: target.url, method: 'POST', headers, body };
}

/**
 * HTTP header values are bytes; fetch refuses anything beyond Latin-1. ntfy (≥ 2.4) decodes
 * RFC 2047 encoded-words, so a non-ASCII title is sent as `=?UTF-8?B?…?=`.
 */
function headerText(value: string): string {
  const flat = value.replace(/[\r\n]+/g, ' ');
  if (/^[\x20-\x7e]*$/.test(flat)) return flat;
  return `=?UTF-8?B?${Buffer.from(flat, 'utf8').toString('base64')}?=`;
}

const NTFY_TAGS: Record<NotifyEvent, string> = {
  failed: 'x',
  recovered: 'white_check_mark',
  rolled_back: 'leftwards_arrow_with_hook',
  removed: 'wastebasket',
  synced: 'arrows_counterclockwise',
};

function urgent(event: NotifyEvent): boolean {
  return event === 'failed' || event === 'rolled_back';
}

function renderNtfy(target: NotifyTarget, n: Notification): OutboundRequest {
  // ntfy turns a message over 4096 bytes into an attachment.
  const { title: t, text } = humanText(n, NTFY_MAX_BYTES, utf8Bytes);
  const headers: Record<string, string> = {
    'Content-Type': 'text/plain; charset=utf-8',
    'User-Agent': USER_AGENT,
    Title: headerText(t),
    Priority: urgent(n.event) ? 'high' : 'default',
    Tags: NTFY_TAGS[n.event],
  };
  if (target.secret !== '') headers['Authorization'] = `Bearer ${target.secret}`;
  return { url: target.url, method: 'POST', headers, body: text };
}

/** `base` + `/segment`, with or without a trailing slash on `base`, its query kept. */
export function joinUrl(base: string, segment: string): string {
  const cut = base.search(/[?#]/);
  const path = cut === -1 ? base : base.slice(0, cut);
  const rest = cut === -1 ? '' : base.slice(cut);
  return `${path.replace(/\/+$/, '')}/${segment.replace(/^\/+/, '')}${rest}`;
}

function renderGotify(target: NotifyTarget, n: Notification): OutboundRequest {
  const { title: t, text } = humanText(n);
  const headers: Record<string, string> = { 'Content-Type': JSON_TYPE, 'User-Agent': USER_AGENT };
  // The application token goes in the header, never `?token=`: URLs end up in proxy logs.
  if (target.secret !== '') headers['X-Gotify-Key'] = target.secret;
  const body = JSON.stringify({ title: t, message: text, priority: urgent(n.event) ? 8 : 5 });
  return { url: joinUrl(target.url, 'message'), method: 'POST', headers, body };
}

/** Slack's mrkdwn gives `&`, `<` and `>` meaning (links, mentions); these three are escaped. */
function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function renderSlack(target: NotifyTarget, n: Notification): OutboundRequest {
  const { title: t, text } = humanText(n, SLACK_MAX_TEXT);
  const body = JSON.stringify({ text: `*${slackEscape(t)}*\n${slackEscape(text)}` });
  return {
    url: target.url,
    method: 'POST',
    headers: { 'Content-Type': JSON_TYPE, 'User-Agent': USER_AGENT },
    body,
  };
}

function renderDiscord(target: NotifyTarget, n: Notification): OutboundRequest {
  const t = title(n);
  const head = `**${truncate(t, 200)}**\n`;
  const content = truncate(
    head + stackList(n, DISCORD_MAX_CONTENT - Array.from(head).length),
    DISCORD_MAX_CONTENT,
  );
  // No pings: a stack's message must not be able to @everyone a server.
  const body = JSON.stringify({ content, username: 'stackd', allowed_mentions: { parse: [] } });
  return {
    url: target.url,
    method: 'POST',
    headers: { 'Content-Type': JSON_TYPE, 'User-Agent': USER_AGENT },
    body,
  };
}

/** The request that delivers `n` to `target`; `deliveryId` names this delivery (webhook header). */
export function renderNotification(
  target: NotifyTarget,
  n: Notification,
  deliveryId: string,
): OutboundRequest {
  switch (target.type) {
    case 'webhook':
      return renderWebhook(target, n, deliveryId);
    case 'ntfy':
      return renderNtfy(target, n);
    case 'gotify':
      return renderGotify(target, n);
    case 'slack':
      return renderSlack(target, n);
    case 'discord':
      return renderDiscord(target, n);
  }
}
