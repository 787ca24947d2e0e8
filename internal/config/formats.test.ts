import { describe, expect, it } from '@jest/globals';
import { MAX_DURATION_MS, booleanFormat, durationFormat } from './formats.js';
import { formatDuration, parseDuration, parseListen } from './index.js';

describe('parseDuration', () => {
  it.each([
    ['60s', 60_000],
    ['3m', 180_000],
    ['1h30m', 5_400_000],
    ['0', 0],
    ['0s', 0],
    ['250ms', 250],
    ['1m30s', 90_000],
    ['1.5s', 1500],
    [' 5m ', 300_000],
    ['90', 90_000],
  ])('parses %j as %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it('takes a JavaScript number as milliseconds', () => {
    expect(parseDuration(1500)).toBe(1500);
  });

  it.each(['banana', '', '-1s', '5x', '1h 30m', '60S', 's', '1.s'])('rejects %j', (text) => {
    expect(() => parseDuration(text)).toThrow(/expected a duration such as 60s/);
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY, null, undefined, true])('rejects %p', (value) => {
    expect(() => parseDuration(value)).toThrow(TypeError);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0'],
    [250, '250ms'],
    [60_000, '1m'],
    [90_000, '1m30s'],
    [5_400_000, '1h30m'],
    [3_601_001, '1h1s1ms'],
  ])('formats %d as %j', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('round-trips through parseDuration', () => {
    for (const ms of [0, 1, 999, 1000, 61_000, 3_723_004]) expect(parseDuration(formatDuration(ms))).toBe(ms);
  });
});

describe('durationFormat', () => {
  it('accepts milliseconds up to what a timer can wait', () => {
    expect(() => {
      durationFormat.validate(MAX_DURATION_MS);
    }).not.toThrow();
    expect(() => {
      durationFormat.validate(MAX_DURATION_MS + 1);
    }).toThrow(/at most/);
  });

  it('leaves text it cannot parse for validate to reject', () => {
    expect(durationFormat.coerce('banana')).toBe('banana');
    expect(() => {
      durationFormat.validate('banana');
    }).toThrow(/expected a duration/);
  });
});

describe('booleanFormat', () => {
  it.each([
    ['true', true],
    ['TRUE', true],
    ['yes', true],
    ['on', true],
    ['1', true],
    ['false', false],
    ['no', false],
    ['off', false],
    ['0', false],
  ])('coerces %j to %p', (text, value) => {
    expect(booleanFormat.coerce(text)).toBe(value);
  });

  it('keeps anything else for validate to reject', () => {
    expect(booleanFormat.coerce('banana')).toBe('banana');
    expect(() => {
      booleanFormat.validate('banana');
    }).toThrow(/expected true or false/);
  });
});

describe('parseListen', () => {
  it.each([
    ['127.0.0.1:8700', { host: '127.0.0.1', port: 8700 }],
    ['[::1]:8700', { host: '::1', port: 8700 }],
    ['localhost:0', { host: 'localhost', port: 0 }],
    [':8700', { host: '', port: 8700 }],
  ])('parses %j', (text, expected) => {
    expect(parseListen(text)).toEqual(expected);
  });

  it.each(['banana', '127.0.0.1', '127.0.0.1:99999', '::1:8700', '127.0.0.1:http', ''])(
    'rejects %j',
    (text) => {
      expect(parseListen(text)).toBeUndefined();
    },
  );
});
