import { describe, expect, it } from '@jest/globals';
import { mergeCompose } from './merge.js';

describe('mergeCompose', () => {
  it('deep-merges mappings and replaces scalars', () => {
    expect(
      mergeCompose(
        { services: { web: { image: 'a:1', deploy: { replicas: 1, mode: 'x' } } }, name: 'p' },
        { services: { web: { image: 'a:2', deploy: { replicas: 3 } }, db: { image: 'pg' } } },
      ),
    ).toEqual({
      name: 'p',
      services: { web: { image: 'a:2', deploy: { replicas: 3, mode: 'x' } }, db: { image: 'pg' } },
    });
  });

  it('replaces command and entrypoint, appends other sequences without duplicates', () => {
    expect(
      mergeCompose(
        { services: { w: { command: ['a', 'b'], ports: ['80:80'], dns: ['1.1.1.1'] } } },
        { services: { w: { command: ['c'], ports: ['80:80', '443:443'], dns: ['8.8.8.8'] } } },
      ),
    ).toEqual({
      services: { w: { command: ['c'], ports: ['80:80', '443:443'], dns: ['1.1.1.1', '8.8.8.8'] } },
    });
  });

  it('merges environment lists and mappings as mappings', () => {
    expect(
      mergeCompose(
        { services: { w: { environment: ['A=1', 'B=2', 'C'] } } },
        { services: { w: { environment: { B: '3' } } } },
      ),
    ).toEqual({ services: { w: { environment: { A: '1', B: '3', C: null } } } });
  });

  it('merges volumes by target', () => {
    expect(
      mergeCompose(
        { services: { w: { volumes: ['./a:/data', 'logs:/logs'] } } },
        { services: { w: { volumes: ['./b:/data:ro', { type: 'bind', source: './c', target: '/c' }] } } },
      ),
    ).toEqual({
      services: {
        w: { volumes: ['./b:/data:ro', 'logs:/logs', { type: 'bind', source: './c', target: '/c' }] },
      },
    });
  });
});
