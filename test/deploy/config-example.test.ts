/**
 * deploy/config.example.yaml: loads through the real configuration loader, lists every key of
 * internal/config/schema.ts with its default (only source.url, which has none, differs), and
 * names each key's environment variable.
 */
import { describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { loadConfig } from '../../internal/config/index.js';
import { schema } from '../../internal/config/schema.js';
import { DEPLOY } from './helpers.js';

const FILE = join(DEPLOY, 'config.example.yaml');

/** Every leaf of the schema: dotted key → its env variable. */
function leaves(node: Record<string, unknown>, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, child] of Object.entries(node)) {
    const key = `${prefix}${name}`;
    const c = child as Record<string, unknown>;
    if ('default' in c && 'format' in c) out.set(key, String(c['env']));
    else for (const [k, v] of leaves(c, `${key}.`)) out.set(k, v);
  }
  return out;
}

function get(object: unknown, dotted: string): unknown {
  let node = object;
  for (const part of dotted.split('.')) node = (node as Record<string, unknown> | undefined)?.[part];
  return node;
}

/** Keys whose default depends on the host: shown commented out in the example. */
const COMMENTED = ['instance'];

describe('deploy/config.example.yaml', () => {
  it('is valid for the real loader and holds the defaults', () => {
    const loaded = loadConfig({ env: {}, configFile: FILE, requireSource: true });
    const defaults = loadConfig({ env: {}, flags: { 'source-url': loaded.source.url } });
    expect(loaded.source.url).toMatch(/^https:\/\//);
    expect(loaded).toEqual(defaults);
  });

  it('lists every schema key (uncommented, except the host-dependent ones) with its environment variable', async () => {
    const text = await readFile(FILE, 'utf8');
    const parsed = load(text);
    const keys = leaves(schema);
    expect(keys.size).toBeGreaterThan(20);
    for (const [key, env] of keys) {
      const leaf = key.split('.').at(-1) ?? key;
      if (COMMENTED.includes(key)) {
        expect([key, new RegExp(`^# ${leaf}: `, 'm').test(text)]).toEqual([key, true]);
      } else {
        expect([key, get(parsed, key) !== undefined]).toEqual([key, true]);
      }
      expect([key, text.includes(env)]).toEqual([key, true]);
    }
  });

  it('writes durations the way people read them', async () => {
    const text = await readFile(FILE, 'utf8');
    expect(text).toMatch(/^ {2}pollInterval: 60s$/m);
    expect(text).toMatch(/^ {2}timeout: 3m$/m);
    expect(text).toMatch(/^ {2}resyncInterval: 5m$/m);
  });

  it('holds no secret values', () => {
    const loaded = loadConfig({ env: {}, configFile: FILE });
    expect(loaded.source.auth.token).toBe('');
    expect(loaded.server.token).toBe('');
    expect(loaded.webhook.secret).toBe('');
  });
});
