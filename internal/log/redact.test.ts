import { describe, expect, it } from '@jest/globals';
import { Redactor, redactUrl } from './index.js';

describe('redactUrl', () => {
  it.each([
    ['https://user:token@host/repo.git', 'https://***@host/repo.git'],
    ['http://token@host:3000/r', 'http://***@host:3000/r'],
    [
      'fetch https://a:b@x.example/r failed; retry https://c:d@y.example',
      'fetch https://***@x.example/r failed; retry https://***@y.example',
    ],
    ['https://user:p@ss@host/repo', 'https://***@host/repo'],
    ['HTTPS://U:P@HOST/R', 'HTTPS://***@HOST/R'],
    ['ssh://git:pw@host:22/r', 'ssh://***@host:22/r'],
  ])('%s → %s', (input, output) => {
    expect(redactUrl(input)).toBe(output);
  });

  it.each([
    'https://host/repo.git',
    'https://host/users/@me',
    'https://host/r?email=a@b.example',
    'mail me at bob@example.com',
    '/srv/stacks',
    'ssh://git@host:2222/r.git',
    'git@github.com:org/r.git',
  ])('leaves %s alone', (text) => {
    expect(redactUrl(text)).toBe(text);
  });
});

describe('Redactor', () => {
  it('replaces every occurrence of every secret', () => {
    const r = new Redactor(['s3cret-token', 'hook-secret']);
    expect(r.text('a s3cret-token b s3cret-token c hook-secret')).toBe('a *** b *** c ***');
  });

  it('replaces a secret that contains another whole', () => {
    const r = new Redactor(['abcd', 'abcdefgh']);
    expect(r.text('x abcdefgh y abcd')).toBe('x *** y ***');
  });

  it('strips URL credentials even without known secrets', () => {
    expect(new Redactor().text('clone https://u:p@host/r')).toBe('clone https://***@host/r');
  });

  it('learns secrets added later and ignores duplicates', () => {
    const r = new Redactor();
    r.add('late-secret');
    r.add('late-secret');
    expect(r.text('late-secret')).toBe('***');
  });

  it('does not track values too short to be secrets', () => {
    const r = new Redactor(['on', '', 'abc']);
    expect(r.text('turn on the abc light')).toBe('turn on the abc light');
  });

  it('redacts deep copies of JSON-like values', () => {
    const r = new Redactor(['tok-1234']);
    const input = {
      a: 'tok-1234',
      n: 3,
      b: [true, null, 'x tok-1234', { url: 'https://u:tok-1234@h/r' }],
      e: new Error('failed with tok-1234'),
      d: new Date('2024-01-02T03:04:05.000Z'),
    };
    expect(r.value(input)).toEqual({
      a: '***',
      n: 3,
      b: [true, null, 'x ***', { url: 'https://***@h/r' }],
      e: 'failed with ***',
      d: '2024-01-02T03:04:05.000Z',
    });
    expect(input.a).toBe('tok-1234');
  });

  it('never returns a secret nested too deep to walk', () => {
    const r = new Redactor(['deep-secret']);
    let nested: unknown = { secret: 'deep-secret' };
    for (let i = 0; i < 20; i += 1) nested = { nested };
    expect(JSON.stringify(r.value(nested))).not.toContain('deep-secret');
  });

  it('survives cycles', () => {
    const r = new Redactor(['cycle-secret']);
    const a: Record<string, unknown> = { s: 'cycle-secret' };
    a['self'] = a;
    const out = JSON.stringify(r.value(a));
    expect(out).not.toContain('cycle-secret');
  });
});
