import { describe, expect, it } from '@jest/globals';

import type { Notification, NotifyTarget, StackNotice } from '../types.js';
import {
  DISCORD_MAX_CONTENT,
  humanText,
  joinUrl,
  renderNotification,
  verifyWebhookSignature,
  webhookSignature,
} from './render.js';

const SECRET = 's3cr3t-token-value';

function stack(id: string, over: Partial<StackNotice> = {}): StackNotice {
  return {
    id,
    status: 'failed',
    message: 'compose up: service web: image not found',
    revision: '0123456789abcdef0123456789abcdef01234567',
    composeHash: null,
    changes: [{ service: 'web', change: 'recreate', why: 'file conf/app.conf' }],
    at: '2026-01-01T00:00:00Z',
    ...over,
  };
}

function note(over: Partial<Notification> = {}): Notification {
  return {
    instance: 'prod',
    event: 'failed',
    at: '2026-01-01T00:00:01Z',
    stacks: [stack('apps/web')],
    ...over,
  };
}

function target(type: NotifyTarget['type'], url: string, secret = ''): NotifyTarget {
  return { name: type, type, url, secret };
}

describe('humanText', () => {
  it('names one stack, its message, short revision and changes', () => {
    const { title, text } = humanText(note());
    expect(title).toBe('stackd prod: apps/web failed');
    expect(text).toBe(
      'apps/web — compose up: service web: image not found (rev 0123456)\n  web: file conf/app.conf',
    );
  });

  it('counts several stacks and says "still failing" for repeats', () => {
    const stacks = [
      stack('a', { repeated: true }),
      stack('b', { repeated: true }),
      stack('c', { repeated: true }),
    ];
    const { title, text } = humanText(note({ stacks }));
    expect(title).toBe('stackd prod: 3 stacks still failing');
    expect(text).toContain('a — still failing: compose up');
    expect(humanText(note({ event: 'recovered', stacks: [stack('apps/web', { message: '' })] })).title).toBe(
      'stackd prod: apps/web recovered',
    );
    expect(humanText(note({ event: 'rolled_back', stacks: [stack('x'), stack('y')] })).title).toBe(
      'stackd prod: 2 stacks rolled back',
    );
  });

  it('bounds each message (first line, 300 chars) and the list (20 stacks)', () => {
    const long = stack('big', { message: `${'x'.repeat(1000)}\nsecond line` });
    const { text } = humanText(note({ stacks: [long] }));
    const first = text.split('\n')[0]!;
    expect(Array.from(first).length).toBeLessThan(340);
    expect(text).not.toContain('second line');
    const many = Array.from({ length: 25 }, (_, i) => stack(`s${i}`, { changes: [] }));
    const list = humanText(note({ stacks: many })).text.split('\n');
    expect(list).toHaveLength(21);
    expect(list[20]).toBe('… and 5 more stacks');
  });
});

describe('renderNotification', () => {
  it('webhook: versioned JSON, event and delivery headers, a verifiable signature', () => {
    const n = note();
    const req = renderNotification(target('webhook', 'https://hooks.example/x', SECRET), n, 'd-1');
    expect(req.method).toBe('POST');
    expect(req.url).toBe('https://hooks.example/x');
    expect(req.headers).toMatchObject({
      'Content-Type': 'application/json',
      'User-Agent': 'stackd',
      'X-Stackd-Event': 'failed',
      'X-Stackd-Delivery': 'd-1',
    });
    const body = JSON.parse(req.body) as Record<string, unknown>;
    expect(body).toEqual({
      version: 1,
      instance: 'prod',
      event: 'failed',
      at: n.at,
      title: humanText(n).title,
      text: humanText(n).text,
      stacks: n.stacks,
    });
    const signature = req.headers['X-Stackd-Signature-256']!;
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature(SECRET, req.body, signature)).toBe(true);
    expect(verifyWebhookSignature(SECRET, `${req.body} `, signature)).toBe(false);
    expect(verifyWebhookSignature('other', req.body, signature)).toBe(false);
    expect(verifyWebhookSignature(SECRET, req.body, 'sha256=00')).toBe(false);
    expect(verifyWebhookSignature(SECRET, req.body, undefined)).toBe(false);
    // The documented example: GitHub's X-Hub-Signature-256 test vector.
    expect(webhookSignature("It's a Secret to Everybody", 'Hello, World!')).toBe(
      'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
    );
  });

  it('webhook: no signature header without a secret', () => {
    const req = renderNotification(target('webhook', 'https://hooks.example/x'), note(), 'd-2');
    expect(req.headers['X-Stackd-Signature-256']).toBeUndefined();
  });

  it('ntfy: plain text to the topic URL, title, priority, tags and a bearer token', () => {
    const req = renderNotification(target('ntfy', 'https://ntfy.sh/mytopic', SECRET), note(), 'd');
    expect(req.url).toBe('https://ntfy.sh/mytopic');
    expect(req.body).toBe(humanText(note()).text);
    expect(req.headers).toMatchObject({
      Title: 'stackd prod: apps/web failed',
      Priority: 'high',
      Tags: 'x',
      Authorization: `Bearer ${SECRET}`,
    });
    const ok = renderNotification(target('ntfy', 'https://ntfy.sh/t'), note({ event: 'recovered' }), 'd');
    expect(ok.headers).toMatchObject({ Priority: 'default', Tags: 'white_check_mark' });
    expect(ok.headers['Authorization']).toBeUndefined();
    expect(
      renderNotification(target('ntfy', 'u'), note({ event: 'rolled_back' }), 'd').headers,
    ).toMatchObject({
      Priority: 'high',
      Tags: 'leftwards_arrow_with_hook',
    });
    expect(renderNotification(target('ntfy', 'u'), note({ event: 'removed' }), 'd').headers['Tags']).toBe(
      'wastebasket',
    );
  });

  it('ntfy: the message stays within 4096 bytes (else it becomes an attachment)', () => {
    const many = Array.from({ length: 30 }, (_, i) => stack(`s${i}`, { message: '—'.repeat(290) }));
    const req = renderNotification(target('ntfy', 'u'), note({ stacks: many }), 'd');
    expect(Buffer.byteLength(req.body, 'utf8')).toBeLessThanOrEqual(4096);
    expect(req.body).toMatch(/… and \d+ more stacks$/);
  });

  it('ntfy: a non-ASCII title is RFC 2047 encoded (header values are bytes)', () => {
    const req = renderNotification(target('ntfy', 'u'), note({ instance: 'münchen' }), 'd');
    const title = req.headers['Title']!;
    expect(title).toMatch(/^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=$/);
    expect(Buffer.from(title.slice(10, -2), 'base64').toString('utf8')).toBe(
      'stackd münchen: apps/web failed',
    );
  });

  it('gotify: JSON to <base>/message, priority by event, the token in X-Gotify-Key only', () => {
    for (const base of ['https://gotify.example', 'https://gotify.example/', 'https://gotify.example//']) {
      expect(renderNotification(target('gotify', base, SECRET), note(), 'd').url).toBe(
        'https://gotify.example/message',
      );
    }
    expect(joinUrl('https://h/sub/', 'message')).toBe('https://h/sub/message');
    expect(joinUrl('https://h/sub?x=1', 'message')).toBe('https://h/sub/message?x=1');
    const req = renderNotification(target('gotify', 'https://gotify.example', SECRET), note(), 'd');
    expect(req.headers['X-Gotify-Key']).toBe(SECRET);
    const { title, text } = humanText(note());
    expect(JSON.parse(req.body)).toEqual({ title, message: text, priority: 8 });
    const ok = renderNotification(target('gotify', 'https://g', SECRET), note({ event: 'synced' }), 'd');
    expect(JSON.parse(ok.body)).toMatchObject({ priority: 5 });
  });

  it('slack: { text } with the title, mrkdwn control characters escaped', () => {
    const n = note({ stacks: [stack('apps/web', { message: 'bad <@U123> & co' })] });
    const req = renderNotification(target('slack', 'https://hooks.slack.com/services/T/B/X'), n, 'd');
    const body = JSON.parse(req.body) as { text: string };
    expect(Object.keys(body)).toEqual(['text']);
    expect(body.text).toBe(
      '*stackd prod: apps/web failed*\napps/web — bad &lt;@U123&gt; &amp; co (rev 0123456)\n  web: file conf/app.conf',
    );
  });

  it('discord: { content, username }, no mentions, content ≤ 2000 with "… and N more stacks"', () => {
    const many = Array.from({ length: 60 }, (_, i) =>
      stack(`group/stack-${i}`, {
        message: 'x'.repeat(250),
        changes: [{ service: 'web', change: 'recreate', why: 'image' }],
      }),
    );
    const req = renderNotification(
      target('discord', 'https://discord.com/api/webhooks/1/abc'),
      note({ stacks: many }),
      'd',
    );
    const body = JSON.parse(req.body) as { content: string; username: string; allowed_mentions: unknown };
    expect(body.username).toBe('stackd');
    expect(body.allowed_mentions).toEqual({ parse: [] });
    expect(Array.from(body.content).length).toBeLessThanOrEqual(DISCORD_MAX_CONTENT);
    expect(body.content.startsWith('**stackd prod: 60 stacks failed**\n')).toBe(true);
    expect(body.content).toMatch(/… and \d+ more stacks$/);
    const shown = body.content.split('\n').filter((line) => line.startsWith('group/stack-')).length;
    expect(body.content.endsWith(`… and ${60 - shown} more stacks`)).toBe(true);
  });

  it('never puts the secret in a URL or body', () => {
    for (const type of ['webhook', 'ntfy', 'gotify', 'slack', 'discord'] as const) {
      const req = renderNotification(target(type, 'https://example.test/hook', SECRET), note(), 'd');
      expect(req.url).not.toContain(SECRET);
      expect(req.body).not.toContain(SECRET);
    }
  });
});
