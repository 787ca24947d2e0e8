import { describe, expect, it } from '@jest/globals';

import { scrub } from './errors.js';
import { parseLocation } from './location.js';

describe('scrub', () => {
  it('removes a URL userinfo whole, a raw @ in the password included, and listed secrets', () => {
    expect(scrub('fetch https://bot:p@ss@git.example.com/r.git failed', ['s3cr3t'])).toBe(
      'fetch https://***@git.example.com/r.git failed',
    );
    expect(scrub('token s3cr3t refused', ['s3cr3t'])).toBe('token *** refused');
  });

  it('an unsupported URL is refused without its credentials', () => {
    expect(() => parseLocation('ssh://git:p@ss@git.example.com/r.git')).toThrow(
      'got `ssh://***@git.example.com/r.git`',
    );
  });
});
