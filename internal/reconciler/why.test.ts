import { describe, expect, it } from '@jest/globals';
import { hashStack, sha256Hex, type StackHashes } from '../../pkg/composehash/index.js';

import { INSTANCE, container, desiredStack, project } from './fixtures.test-helpers.js';
import { planDesired } from './plan.js';
import { driftWhy, missingWhy, partsWhy, reasonPart, recreateWhy } from './why.js';

const encoder = new TextEncoder();

function hash(files: Record<string, string>): StackHashes {
  const map = new Map(
    Object.entries(files).map(([path, content]) => [path, { mode: '100644', sha256: sha256Hex(content) }]),
  );
  return hashStack({
    id: 'apps/web',
    composeFiles: [{ path: 'compose.yaml', content: encoder.encode(files['compose.yaml'] ?? '') }],
    files: map,
    read: (path) => (files[path] === undefined ? undefined : encoder.encode(files[path])),
  });
}

const COMPOSE = `
services:
  web:
    image: nginx:1.25
    env_file: [web.env]
    volumes: ["./conf/site.conf:/etc/nginx/conf.d/site.conf:ro"]
  db:
    image: postgres:16
`;
const FILES = { 'compose.yaml': COMPOSE, 'web.env': 'A=1\n', 'conf/site.conf': 'server {}\n' };

function parts(files: Record<string, string>, service: string) {
  const summary = hash(files).services.get(service);
  if (summary === undefined) throw new Error(`no ${service}`);
  return summary.parts;
}

describe('why: what changed between the parts last applied and the desired ones', () => {
  const before = parts(FILES, 'web');

  it('names a bind-mounted file and an env_file by path', () => {
    expect(partsWhy(before, parts({ ...FILES, 'conf/site.conf': 'server { listen 81; }\n' }, 'web'))).toBe(
      'file conf/site.conf',
    );
    expect(partsWhy(before, parts({ ...FILES, 'web.env': 'A=2\n' }, 'web'))).toBe('file web.env');
  });

  it('names an image change with both references, and a definition change', () => {
    const image = { ...FILES, 'compose.yaml': COMPOSE.replace('nginx:1.25', 'nginx:1.27') };
    expect(partsWhy(before, parts(image, 'web'))).toBe('image nginx:1.25 → nginx:1.27');
    const env = {
      ...FILES,
      'compose.yaml': COMPOSE.replace('image: nginx:1.25', 'image: nginx:1.25\n    user: "1000"'),
    };
    expect(partsWhy(before, parts(env, 'web'))).toBe('definition');
    const both = { ...image, 'web.env': 'A=3\n' };
    expect(partsWhy(before, parts(both, 'web'))).toBe('image nginx:1.25 → nginx:1.27, file web.env');
  });

  it('leaves the other service alone: its parts do not move', () => {
    const db = parts(FILES, 'db');
    expect(parts({ ...FILES, 'conf/site.conf': 'x' }, 'db')).toEqual(db);
  });

  it('names three files, then counts', () => {
    const files = (n: number, v: string) =>
      Object.fromEntries([...Array(n).keys()].map((i) => [`f${i}`, `${v}${i}`]));
    expect(
      partsWhy(
        { image: 'a', definition: 'd', files: files(5, 'x') },
        { image: 'a', definition: 'd', files: files(5, 'y') },
      ),
    ).toBe('file f0, file f1, file f2, 2 more files');
    expect(
      partsWhy(
        { image: 'a', definition: 'd', files: { '*': '1' } },
        { image: 'a', definition: 'd', files: { '*': '2' } },
      ),
    ).toBe('files');
  });

  it('falls back to the service hashes when what was applied is not known, or is another hash', () => {
    const desired = { hash: 'sha256:new0000000000000000', parts: before };
    expect(recreateWhy('sha256:old0000000000000000', desired, undefined)).toBe(
      'service hash sha256:old000000000 → sha256:new000000000',
    );
    expect(recreateWhy('sha256:old', desired, { hash: 'sha256:other', parts: before })).toMatch(
      /^service hash /,
    );
    const changed = parts({ ...FILES, 'web.env': 'A=9\n' }, 'web');
    expect(
      recreateWhy('sha256:old', { hash: 'sha256:x', parts: changed }, { hash: 'sha256:old', parts: before }),
    ).toBe('file web.env');
  });

  it('tells a new service from one removed by hand', () => {
    const applied = { web: { hash: 'sha256:w', parts: before } };
    expect(missingWhy('web', applied, false)).toBe('drift (removed)');
    expect(missingWhy('cache', applied, false)).toBe('new');
    expect(missingWhy('web', undefined, true)).toBe('new');
    expect(missingWhy('web', undefined, false)).toBe('drift (no container)');
  });

  it('calls a container that is not at rest drift, with its exit code', () => {
    expect(driftWhy(container('p', 'web', { state: 'exited', exitCode: 1 }))).toBe('drift (exited 1)');
    expect(driftWhy(container('p', 'web', { state: 'running', health: 'unhealthy' }))).toBe(
      'drift (unhealthy)',
    );
    expect(driftWhy(container('p', 'web', { state: 'paused' }))).toBe('drift (paused)');
  });

  it("words a stack's reason: drift alone, or among other changes", () => {
    expect(reasonPart('web', 'drift (exited 1)', true)).toBe('web (exited 1)');
    expect(reasonPart('web', 'drift (exited 1)', false)).toBe('web (drift: exited 1)');
    expect(reasonPart('web', 'file a', false)).toBe('web (file a)');
  });

  it('planDesired uses the record of the last apply', () => {
    const withParts = desiredStack('web', {
      web: { hash: 'sha256:w2', parts: parts({ ...FILES, 'conf/site.conf': 'y' }, 'web') },
      cache: { hash: 'sha256:c' },
    });
    const observed = project('web', [container('web', 'web', { hash: 'sha256:w1' })]);
    const plan = planDesired(withParts, observed, {
      instance: INSTANCE,
      applied: { web: { hash: 'sha256:w1', parts: before } },
    });
    expect(plan.services).toEqual([
      { name: 'web', change: 'recreate', why: 'file conf/site.conf' },
      { name: 'cache', change: 'create', why: 'new' },
    ]);
    expect(plan.reason).toBe('changed: web (file conf/site.conf), cache (new)');
  });
});
