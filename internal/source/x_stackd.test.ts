import { describe, expect, it } from '@jest/globals';
import { load } from 'js-yaml';
import type { JsonObject } from '../../pkg/composehash/json.js';
import { NO_INTENT, StackSettingsError, effectivePolicy, readStackSettings } from './x_stackd.js';

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
      intent: NO_INTENT,
    });
  });

  it.each([
    [
      'x-stackd:\n  updates: digest\nservices: {}\n',
      'unknown key `x-stackd.updates` (known: `suspend`, `prune`, `selfHeal`, `rollback`, `update`, `recreate`, `dependsOn`, `minReady`)',
    ],
    ['x-stackd: { prnue: true }\nservices: {}\n', expect.stringContaining('unknown key `x-stackd.prnue`')],
    ['x-stackd: { prune: "yes" }\nservices: {}\n', '`x-stackd.prune` must be true or false, not "yes"'],
    [
      'x-stackd: { recreate: all }\nservices: {}\n',
      '`x-stackd.recreate` must be one of service, stack, not "all"',
    ],
    [
      'x-stackd: { dependsOn: { db: 1 } }\nservices: {}\n',
      '`x-stackd.dependsOn` must be a list of stack ids, not a mapping',
    ],
    [
      'x-stackd: { dependsOn: ["../db"] }\nservices: {}\n',
      '`x-stackd.dependsOn` must list stack ids (`apps/db`), not "../db"',
    ],
    [
      'x-stackd: { minReady: soon }\nservices: {}\n',
      '`x-stackd.minReady` must be a duration such as 10s or 2m, not "soon"',
    ],
    [
      'x-stackd: { suspend: { reason: "" } }\nservices: {}\n',
      '`x-stackd.suspend.reason` must be a non-empty string, not ""',
    ],
    [
      'x-stackd: { suspend: { why: x } }\nservices: {}\n',
      'unknown key `x-stackd.suspend.why` (known: `reason`)',
    ],
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
    expect(() => readStackSettings(doc(yaml))).toThrow(StackSettingsError);
    expect(() => readStackSettings(doc(yaml))).toThrow(expect.objectContaining({ message }));
  });

  it("reads the stack's intent: each key, bare numbers as seconds, suspend: true", () => {
    const { intent } = readStackSettings(
      doc(
        [
          'x-stackd:',
          '  suspend: { reason: "db migration until 18:00" }',
          '  prune: true',
          '  selfHeal: false',
          '  rollback: true',
          '  recreate: stack',
          '  dependsOn: [apps/db, apps/cache, apps/db]',
          '  minReady: 10s',
          'services: {}',
        ].join('\n'),
      ),
    );
    expect(intent).toEqual({
      suspend: { reason: 'db migration until 18:00' },
      prune: true,
      selfHeal: false,
      rollback: true,
      recreate: 'stack',
      dependsOn: ['apps/db', 'apps/cache'],
      minReadyMs: 10_000,
    });
    const short = readStackSettings(
      doc('x-stackd: { suspend: true, minReady: 3, dependsOn: apps/db }\nservices: {}\n'),
    );
    expect(short.intent).toMatchObject({
      suspend: { reason: 'suspended in the repository' },
      minReadyMs: 3000,
      dependsOn: ['apps/db'],
    });
  });

  it('a service follows its own policy, else its stack, else the global one', () => {
    expect(effectivePolicy({ update: 'digest' }, 'off')).toBe('digest');
    expect(effectivePolicy({ update: null }, 'notify')).toBe('notify');
    expect(effectivePolicy({}, 'off')).toBe('off');
  });
});
