import { describe, expect, it } from '@jest/globals';
import { scrub, sourceError } from './errors.js';
import { parseLocation } from './location.js';

describe('parseLocation', () => {
  it('takes userinfo out of http URLs', () => {
    expect(parseLocation('https://bob:t%40ken@git.example.com/org/stacks.git')).toEqual({
      kind: 'http',
      url: 'https://git.example.com/org/stacks.git',
      credentials: { username: 'bob', password: 't@ken' },
    });
  });

  it('prefers configured auth and defaults the username', () => {
    expect(parseLocation('http://git.example.com/r.git', { token: 'tk' })).toEqual({
      kind: 'http',
      url: 'http://git.example.com/r.git',
      credentials: { username: 'x-access-token', password: 'tk' },
    });
    expect(parseLocation('https://git.example.com/r.git')).toMatchObject({ credentials: undefined });
  });

  it('reads local paths and file URLs', () => {
    expect(parseLocation('/srv/stacks')).toEqual({ kind: 'local', path: '/srv/stacks' });
    expect(parseLocation('file:///srv/stacks.git')).toEqual({ kind: 'local', path: '/srv/stacks.git' });
    expect(parseLocation('stacks')).toEqual({ kind: 'local', path: `${process.cwd()}/stacks` });
  });

  it('reads SSH remotes, both forms', () => {
    expect(parseLocation('ssh://git@git.example.com:2222/org/stacks.git')).toEqual({
      kind: 'ssh',
      url: 'ssh://git@git.example.com:2222/org/stacks.git',
      user: 'git',
      host: 'git.example.com',
      port: 2222,
      path: '/org/stacks.git',
    });
    expect(parseLocation('ssh://[::1]/srv/r.git')).toMatchObject({
      host: '::1',
      port: undefined,
      user: undefined,
    });
    expect(parseLocation('git@github.com:org/r.git')).toEqual({
      kind: 'ssh',
      url: 'git@github.com:org/r.git',
      user: 'git',
      host: 'github.com',
      port: undefined,
      path: 'org/r.git',
    });
  });

  it('refuses malformed SSH remotes and passwords in them, without echoing the password', () => {
    expect(() => parseLocation('ssh://u:secret@host/r.git')).toThrow(/without a password/);
    expect(() => parseLocation('ssh://u:secret@host/r.git')).toThrow(/^(?!.*secret)/);
    expect(() => parseLocation('ssh://git@host')).toThrow(/with a repository path/);
    expect(() => parseLocation('ssh://-oProxyCommand=x@host/r')).toThrow(/do not start with `-`/);
    expect(() => parseLocation('git@-oProxyCommand=x:r')).toThrow(/do not start with `-`/);
    expect(() => parseLocation('git@host:')).toThrow(/with a repository path/);
    expect(() => parseLocation('u:secret@host:r')).toThrow(/got `\*\*\*@host:r`/);
    expect(() => parseLocation('ftp://u:secret@host/r')).toThrow(/got `ftp:\/\/\*\*\*@host\/r`/);
  });
});

describe('scrub', () => {
  it('removes URL userinfo and secrets', () => {
    expect(scrub('GET https://u:p@h/x and http://tok@h/y failed: tok', ['tok'])).toBe(
      'GET https://***@h/x and http://***@h/y failed: ***',
    );
    const error = sourceError('fetching https://a:b@h failed', new Error('with b in it'), ['b']);
    expect(error.name).toBe('SourceError');
    expect(error.message).toBe('fetching https://***@h failed: with *** in it');
  });
});
