/**
 * Compose fidelity on the real engine (compose v2): stackd reads a stack the way compose does —
 * `docker-compose.override.yml`, `include:`, `extends`, `!reset`, `${VAR}` from `.env`,
 * `COMPOSE_PROFILES` — and a commit recreates exactly the services compose would recreate.
 * Every stack changes in the same two commits, so the test costs three `sync --once` runs.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { engine } from '../helpers/docker.js';
import { Harness, composeFile, stackOf } from '../helpers/stackd.js';

const PORT = 20_000 + Math.floor(Math.random() * 20_000);

describe('sync --once: compose files as compose reads them', () => {
  let h: Harness;
  let data: string;
  let before: Record<string, Record<string, string>>;
  const STACKS = ['ov', 'inc', 'ext', 'rst', 'data', 'prof'];

  const services = (text: string): string => text.replace(/^services:\n/, '');
  const extendsFile = (level: string): string =>
    `services:
  base:
    image: stackd-test/busybox:1
    command: ["sleep", "3600"]
    stop_grace_period: 1s
    environment: {LEVEL: "${level}"}
    profiles: [template]
  w1: {extends: base, profiles: !reset []}
  w2: {extends: base, profiles: !reset [], labels: {role: second}}
${services(composeFile({ other: {} }))}`;

  const envOf = async (id: string): Promise<string[]> => (await engine.getContainer(id).inspect()).Config.Env;

  beforeAll(async () => {
    h = await Harness.create('fidelity');
    data = join(h.root, 'hostdata');
    await h.commit({
      'ov/docker-compose.yml': composeFile({ a: {}, b: {} }),
      'ov/docker-compose.override.yml': 'services:\n  a:\n    environment: {FROM_OVERRIDE: "1"}\n',
      'inc/compose.yaml': `include:\n  - db/compose.yaml\n${composeFile({ web: {} })}`,
      'inc/db/compose.yaml': composeFile({ db: {} }),
      'ext/compose.yaml': extendsFile('1'),
      'rst/compose.yaml': composeFile({ web: { extra: `ports: ["127.0.0.1:${PORT}:80"]` }, side: {} }),
      'data/compose.yaml': composeFile({ web: { extra: 'volumes: ["${DATA}/web:/data"]' }, db: {} }),
      'data/.env': `DATA=${data}\n`,
      'data/README.md': 'one\n',
      'prof/compose.yaml': composeFile({ web: {}, dbg: { extra: 'profiles: [debug]' } }),
      'prof/.env': 'COMPOSE_PROFILES=debug\n',
    });
    const first = await h.sync();
    for (const name of STACKS)
      expect(stackOf(first.response, h.id(name))).toMatchObject({ status: 'synced' });
    expect(first.exitCode).toBe(0);
    before = {};
    for (const name of STACKS) before[name] = await h.ids(name);
  });

  afterAll(async () => {
    await h.cleanup();
  });

  it('deploys every service compose would start, each labelled', async () => {
    expect(Object.keys(before['ov'] ?? {}).sort()).toEqual(['a', 'b']);
    expect(await envOf(before['ov']?.['a'] ?? '')).toContain('FROM_OVERRIDE=1');
    expect(Object.keys(before['inc'] ?? {}).sort()).toEqual(['db', 'web']);
    expect(Object.keys(before['ext'] ?? {}).sort()).toEqual(['other', 'w1', 'w2']);
    expect(await envOf(before['ext']?.['w2'] ?? '')).toContain('LEVEL=1');
    expect(Object.keys(before['prof'] ?? {}).sort()).toEqual(['dbg', 'web']);
    for (const name of STACKS) {
      for (const c of await h.containers(name)) {
        expect([c.Labels['io.stackd.stack'], c.Labels['io.stackd.managed-by']]).toEqual([
          h.id(name),
          h.instance,
        ]);
      }
    }
    const rst = await engine.getContainer(before['rst']?.['web'] ?? '').inspect();
    expect(Object.keys((rst.HostConfig.PortBindings ?? {}) as Record<string, unknown>)).toEqual(['80/tcp']);
  });

  it('a second commit recreates exactly what changed, and what compose would recreate', async () => {
    await h.commit({
      'ov/docker-compose.override.yml': 'services:\n  a:\n    environment: {FROM_OVERRIDE: "2"}\n',
      'inc/db/compose.yaml': composeFile({ db: { image: 2 } }),
      'ext/compose.yaml': extendsFile('2'),
      'rst/compose.override.yml': 'services:\n  web:\n    ports: !reset []\n',
      'data/README.md': 'two\n',
    });
    const second = await h.sync();
    for (const name of STACKS)
      expect(stackOf(second.response, h.id(name))).toMatchObject({ status: 'synced' });
    const after: Record<string, Record<string, string>> = {};
    for (const name of STACKS) after[name] = await h.ids(name);
    const recreated = (name: string): string[] =>
      Object.keys(after[name] ?? {})
        .filter((service) => after[name]?.[service] !== before[name]?.[service])
        .sort();

    expect(recreated('ov')).toEqual(['a']);
    expect(await envOf(after['ov']?.['a'] ?? '')).toContain('FROM_OVERRIDE=2');
    expect(recreated('inc')).toEqual(['db']);
    expect(recreated('ext')).toEqual(['w1', 'w2']);
    expect(await envOf(after['ext']?.['w1'] ?? '')).toContain('LEVEL=2');
    expect(recreated('rst')).toEqual(['web']);
    const rst = await engine.getContainer(after['rst']?.['web'] ?? '').inspect();
    expect(Object.keys((rst.HostConfig.PortBindings ?? {}) as Record<string, unknown>)).toEqual([]);
    expect(recreated('data')).toEqual([]);
    expect(recreated('prof')).toEqual([]);
  });
});
