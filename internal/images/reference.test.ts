import { describe, expect, it } from '@jest/globals';
import { parseReference, tagKey } from './reference.js';

describe('parseReference', () => {
  it.each([
    ['nginx', 'docker.io', 'library/nginx', 'latest', null],
    ['nginx:1.25', 'docker.io', 'library/nginx', '1.25', null],
    ['docker.io/team/app:2', 'docker.io', 'team/app', '2', null],
    ['index.docker.io/library/redis', 'docker.io', 'library/redis', 'latest', null],
    ['localhost:5000/app:1', 'localhost:5000', 'app', '1', null],
    ['localhost/app', 'localhost', 'app', 'latest', null],
    ['ghcr.io/Owner-x/thing:v1'.toLowerCase(), 'ghcr.io', 'owner-x/thing', 'v1', null],
    ['Registry.Example:443/a/b/c:t', 'registry.example:443', 'a/b/c', 't', null],
  ])('%s', (ref, registry, repository, tag, digest) => {
    expect(parseReference(ref)).toEqual({
      registry,
      repository,
      tag,
      digest,
      name: `${registry}/${repository}`,
    });
  });

  it('keeps a pinned digest, with or without a tag', () => {
    const hex = 'a'.repeat(64);
    expect(parseReference(`app@sha256:${hex}`)).toMatchObject({ tag: null, digest: `sha256:${hex}` });
    expect(parseReference(`localhost:5000/app:1@sha256:${hex}`)).toMatchObject({
      registry: 'localhost:5000',
      tag: '1',
      digest: `sha256:${hex}`,
    });
  });

  it.each([
    '',
    ' app',
    'App',
    'app:',
    'app:bad tag',
    'app@sha256:xyz',
    'a//b',
    '-app',
    'app:' + 'x'.repeat(129),
  ])('refuses %j', (ref) => {
    expect(parseReference(ref)).toBeNull();
  });

  it('gives two spellings of one tag the same key', () => {
    const a = parseReference('nginx:1');
    const b = parseReference('docker.io/library/nginx:1');
    expect(a && tagKey(a)).toBe('docker.io/library/nginx:1');
    expect(a && tagKey(a)).toBe(b && tagKey(b));
  });
});
