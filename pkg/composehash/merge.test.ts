import { describe, expect, it } from '@jest/globals';
import { canonicalDocument } from './canonical.js';
import type { JsonObject } from './json.js';
import { mergeCompose } from './merge.js';
import { tagged } from './tags.js';

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

  const canon = (doc: JsonObject): JsonObject =>
    canonicalDocument(doc, '.', (name) => (name === 'C' ? 'from-env' : undefined));

  it('merges environment lists and mappings as mappings (both canonical first)', () => {
    expect(
      mergeCompose(
        canon({ services: { w: { environment: ['A=1', 'B=2', 'C', 'D'] } } }),
        canon({ services: { w: { environment: { B: 3 } } } }),
      ),
    ).toEqual({ services: { w: { environment: { A: '1', B: '3', C: 'from-env', D: null } } } });
  });

  it('merges list and map forms of depends_on, networks, dns, env_file and build', () => {
    const merged = mergeCompose(
      canon({
        services: {
          w: { depends_on: ['db'], networks: ['front'], dns: '1.1.1.1', env_file: 'a.env', build: './app' },
        },
      }),
      canon({
        services: {
          w: {
            depends_on: { cache: { condition: 'service_healthy' } },
            networks: { back: { aliases: ['x'] } },
            dns: ['8.8.8.8'],
            env_file: [{ path: './b.env', required: false }],
            build: { args: ['V=2'] },
          },
        },
      }),
    );
    expect(merged).toEqual({
      services: {
        w: {
          depends_on: {
            db: { condition: 'service_started', required: true },
            cache: { condition: 'service_healthy', required: true },
          },
          networks: { front: null, back: { aliases: ['x'] } },
          dns: ['1.1.1.1', '8.8.8.8'],
          env_file: [
            { path: './a.env', required: true },
            { path: './b.env', required: false },
          ],
          build: { context: './app', args: { V: '2' } },
        },
      },
    });
  });

  it('merges volumes by target', () => {
    expect(
      mergeCompose(
        canon({ services: { w: { volumes: ['./a:/data', 'logs:/logs'] } } }),
        canon({
          services: { w: { volumes: ['./b:/data:ro', { type: 'bind', source: './c', target: '/c' }] } },
        }),
      ),
    ).toEqual({
      services: {
        w: {
          volumes: [
            {
              type: 'bind',
              source: './b',
              target: '/data',
              read_only: true,
              bind: { create_host_path: true },
            },
            { type: 'volume', source: 'logs', target: '/logs', volume: {} },
            { type: 'bind', source: './c', target: '/c' },
          ],
        },
      },
    });
  });

  it('applies !reset and !override of the later file', () => {
    expect(
      mergeCompose(
        { services: { w: { ports: ['80:80'], environment: { A: '1', B: '2' }, image: 'x' } } },
        { services: { w: { ports: tagged('reset', []), environment: tagged('override', { C: '3' }) } } },
      ),
    ).toEqual({ services: { w: { environment: { C: '3' }, image: 'x' } } });
  });
});
