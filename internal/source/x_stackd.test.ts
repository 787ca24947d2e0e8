import { describe, expect, it } from '@jest/globals';
import { load } from 'js-yaml';
import type { JsonObject } from '../../pkg/composehash/json.js';
import { StackSettingsError, effectivePolicy, readStackSettings } from './x_stackd.js';

const doc = (yaml: string): JsonObject => load(yaml) as JsonObject;

describe('readStackSettings (x-stackd)', () => {
  it('reads the stack default and each service its own update policy', () => {
    const settings = readStackSettings(
      doc(
        'x-stackd:\n  update: notify\nservices:\n  app:\n    image: a\n    x-stackd:\n      update: digest\n  db:\n    image: b\n',
      ),
    );
    expect(settings.update).toBe('notify');
    expect([...settings.services]).toEqual([['app', 'digest']]);
  });

  it('is empty without x-stackd', () => {
    expect(readStackSettings(doc('services:\n  app:\n    image: a\n'))).toEqual({
      update: null,
      services: new Map(),
    });
  });

  it.each([
    ['x-stackd:\n  updates: digest\nservices: {}\n', 'unknown key `x-stackd.updates` (known: `update`)'],
    [
      'services:\n  app:\n    x-stackd:\n      update: digset\n',
      '`services.app.x-stackd.update` must be one of off, digest, notify, not "digset"',
    ],
    ['x-stackd: digest\nservices: {}\n', '`x-stackd` must be a mapping, not string "digest"'],
    [
      'x-stackd:\n  update: true\nservices: {}\n',
      '`x-stackd.update` must be one of off, digest, notify, not boolean true',
    ],
    [
      'services:\n  app:\n    x-stackd:\n      prune: true\n',
      'unknown key `services.app.x-stackd.prune` (known: `update`)',
    ],
  ])('refuses %j naming the key', (yaml, message) => {
    expect(() => readStackSettings(doc(yaml))).toThrow(new StackSettingsError(message));
  });

  it('a service follows its own policy, else its stack, else the global one', () => {
    expect(effectivePolicy({ update: 'digest' }, 'off')).toBe('digest');
    expect(effectivePolicy({ update: null }, 'notify')).toBe('notify');
    expect(effectivePolicy({}, 'off')).toBe('off');
  });
});
