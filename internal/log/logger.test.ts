import { PassThrough } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { type Logger, createLogger, resolveFormat, silentLogger } from './index.js';

/** A logger writing into memory, and the lines it wrote so far (after winston's pipes ran). */
function capture(options: Parameters<typeof createLogger>[0] = {}) {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  const logger = createLogger({ ...options, stream });
  return {
    logger,
    async text(): Promise<string> {
      for (let i = 0; i < 5; i += 1) await new Promise((resolve) => setImmediate(resolve));
      return text;
    },
    async lines(): Promise<Record<string, unknown>[]> {
      const all = await this.text();
      return all
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    },
  };
}

describe('createLogger (json)', () => {
  it('writes one JSON object per line with event, level, message and timestamp', async () => {
    const out = capture();
    out.logger.info('stack applied', { event: 'reconcile.success', stack: 'apps/web', durationMs: 812 });
    out.logger.warn('fetch failed', { event: 'source.fetch' });
    const lines = await out.lines();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      event: 'reconcile.success',
      level: 'info',
      message: 'stack applied',
      stack: 'apps/web',
      durationMs: 812,
    });
    expect(lines[1]).toMatchObject({ event: 'source.fetch', level: 'warn', message: 'fetch failed' });
    for (const line of lines) {
      expect(typeof line['timestamp']).toBe('string');
      expect(Number.isNaN(Date.parse(line['timestamp'] as string))).toBe(false);
    }
  });

  it('honours the level', async () => {
    const out = capture({ level: 'warn' });
    out.logger.info('hidden', { event: 'reconcile.start' });
    out.logger.debug('hidden', { event: 'reconcile.start' });
    out.logger.error('shown', { event: 'reconcile.failure' });
    const lines = await out.lines();
    expect(lines.map((l) => l['message'])).toEqual(['shown']);
  });

  it('defaults to info', async () => {
    const out = capture();
    out.logger.debug('hidden', { event: 'reconcile.skip' });
    out.logger.info('shown', { event: 'reconcile.start' });
    expect((await out.lines()).map((l) => l['message'])).toEqual(['shown']);
  });

  it('keeps secrets and URL credentials out of every field', async () => {
    const secrets = ['ghp_TOKEN123456', 'webhook-s3cret', 'api-bearer-789'];
    const out = capture({ secrets });
    out.logger.info('fetching https://bot:ghp_TOKEN123456@git.example.com/r.git', {
      event: 'source.fetch',
      url: 'https://bot:urlpassword@git.example.com/r.git',
      header: 'Bearer api-bearer-789',
      nested: { list: ['webhook-s3cret', { deeper: 'x webhook-s3cret y' }] },
    });
    out.logger.error('webhook rejected', {
      event: 'webhook.rejected',
      error: new Error('bad webhook-s3cret'),
    });
    // winston also takes an Error as the message (stackd's Logger type does not: it wants an event).
    (out.logger as unknown as { warn(e: Error): void }).warn(
      new Error('clone of https://u:urlpassword@h/r failed'),
    );
    const text = await out.text();
    for (const secret of [...secrets, 'urlpassword', 'bot:']) expect(text).not.toContain(secret);
    const lines = await out.lines();
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({
      message: 'fetching https://***@git.example.com/r.git',
      url: 'https://***@git.example.com/r.git',
      header: 'Bearer ***',
      nested: { list: ['***', { deeper: 'x *** y' }] },
    });
    expect(lines[1]).toMatchObject({ error: 'bad ***' });
    expect(lines[2]?.['message']).toBe('clone of https://***@h/r failed');
  });

  it('keeps secrets out of child loggers’ default fields', async () => {
    const out = capture({ secrets: ['child-secret'] });
    const child: Logger = out.logger.child({ token: 'child-secret', stack: 'apps/web' });
    child.info('hello', { event: 'reconcile.start' });
    const text = await out.text();
    expect(text).not.toContain('child-secret');
    expect((await out.lines())[0]).toMatchObject({ stack: 'apps/web', token: '***' });
  });

  it('a secret equal to a level name does not break the level', async () => {
    const out = capture({ secrets: ['info'] });
    out.logger.info('information', { event: 'reconcile.start' });
    expect((await out.lines())[0]?.['level']).toBe('info');
  });
});

describe('createLogger (text)', () => {
  it('writes a readable line: time, level, [event], message, key=value', async () => {
    const out = capture({ format: 'text', secrets: ['text-secret'] });
    out.logger.info('stack applied', { event: 'reconcile.success', stack: 'apps/web', durationMs: 812 });
    out.logger.warn('with text-secret and https://u:p@h/r', { event: 'source.fetch', list: [1, 2] });
    const lines = (await out.text()).trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info \[reconcile\.success\] stack applied stack=apps\/web durationMs=812$/,
    );
    expect(lines[1]).toMatch(/ warn \[source\.fetch\] with \*\*\* and https:\/\/\*\*\*@h\/r list=\[1,2\]$/);
    expect(lines.join('\n')).not.toContain('text-secret');
  });
});

describe('silentLogger', () => {
  it('accepts every call and writes nothing', () => {
    const logger = silentLogger();
    expect(() => {
      logger.error('nothing', { event: 'reconcile.start' });
      logger.info('nothing', { event: 'reconcile.start' });
    }).not.toThrow();
    expect((logger as unknown as { silent: boolean }).silent).toBe(true);
  });
});

describe('createLogger (journal)', () => {
  it('starts each line with its syslog priority: error 3, warn 4, info 6, debug 7', async () => {
    const out = capture({ level: 'debug', journal: true });
    out.logger.error('e', { event: 'reconcile.failure' });
    out.logger.warn('w', { event: 'source.fetch' });
    out.logger.info('i', { event: 'reconcile.start' });
    out.logger.debug('d', { event: 'reconcile.skip' });
    const lines = (await out.text()).trimEnd().split('\n');
    expect(lines.map((l) => l.slice(0, 3))).toEqual(['<3>', '<4>', '<6>', '<7>']);
    // What follows the prefix is the unchanged JSON line (journald strips the prefix).
    expect(JSON.parse(lines[1]?.slice(3) ?? '')).toMatchObject({ level: 'warn', event: 'source.fetch' });
  });

  it('prefixes every line of a multi-line text message', async () => {
    const out = capture({ format: 'text', journal: true });
    out.logger.error('first\nsecond', { event: 'command.fatal' });
    const lines = (await out.text()).trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^<3>\S+ error \[command\.fatal\] first$/);
    expect(lines[1]).toBe('<3>second');
  });

  it('writes no prefix by default', async () => {
    const out = capture();
    out.logger.warn('w', { event: 'source.fetch' });
    expect((await out.text()).startsWith('{')).toBe(true);
  });
});

describe('log format auto', () => {
  const tty = Object.assign(new PassThrough(), { isTTY: true });
  it('is text on a terminal and JSON anywhere else; json and text always win', () => {
    expect(resolveFormat('auto', tty)).toBe('text');
    expect(resolveFormat('auto', new PassThrough())).toBe('json');
    expect(resolveFormat('json', tty)).toBe('json');
    expect(resolveFormat('text', new PassThrough())).toBe('text');
  });
});

describe('Logger (type)', () => {
  it('refuses a line without an event or with a name outside LogEvent (checked by tsc)', () => {
    const logger = silentLogger();
    // @ts-expect-error -- no event: `make typecheck` fails if this ever type-checks
    logger.warn('untagged');
    // @ts-expect-error -- meta without event
    logger.info('untagged', { stack: 'apps/web' });
    // @ts-expect-error -- not a name of LogEvent (add it to events.ts and the README's table)
    logger.error('unknown', { event: 'made.up' });
    logger.info('tagged', { event: 'reconcile.start', stack: 'apps/web' });
    expect(true).toBe(true);
  });
});
