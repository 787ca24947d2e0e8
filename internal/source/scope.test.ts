import { describe, expect, it } from '@jest/globals';
import { createScope, type ScopeOptions } from './scope.js';

const IDS = ['web', 'apps/web', 'apps/api', 'apps/internal/db', 'infra/proxy'];

describe('createScope', () => {
  it.each<[string, ScopeOptions, string[]]>([
    ['default: everything', {}, IDS],
    ['empty include means the default', { include: [] }, IDS],
    ['one level', { include: ['apps/*'] }, ['apps/web', 'apps/api']],
    ['any depth', { include: ['apps/**'] }, ['apps/web', 'apps/api', 'apps/internal/db']],
    ['several globs', { include: ['web', 'infra/*'] }, ['web', 'infra/proxy']],
    ['exclude wins', { include: ['apps/**'], exclude: ['apps/internal/**'] }, ['apps/web', 'apps/api']],
    ['exclude only', { exclude: ['*/web', 'web'] }, ['apps/api', 'apps/internal/db', 'infra/proxy']],
    ['braces', { include: ['apps/{web,api}'] }, ['apps/web', 'apps/api']],
  ])('%s', (_what, options, expected) => {
    const scope = createScope(options);
    expect(IDS.filter(scope)).toEqual(expected);
  });

  it('validates loudly', () => {
    expect(() => createScope({ include: [''] })).toThrow(
      'Expected `include` to be a list of non-empty glob strings, got `[""]`',
    );
    expect(() => createScope({ exclude: 'x' as unknown as string[] })).toThrow(/Expected `exclude`/);
  });
});
