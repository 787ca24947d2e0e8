import { describe, expect, it } from '@jest/globals';
import { LABEL_COMPOSE_HASH, LABEL_REVISION } from '../labels/index.js';
import { serviceLabels, syncedFromLabels } from './carry_forward.js';
import { INSTANCE, container, desiredStack, project } from './fixtures.test-helpers.js';

describe('carry-forward labels', () => {
  it('keeps revision and compose hash of unchanged services, sets new ones on changed', () => {
    const stack = desiredStack('web', { app: 'sha256:a', db: 'sha256:NEW' });
    const obs = project('web', [
      container('web', 'app', { hash: 'sha256:a' }),
      container('web', 'db', { hash: 'sha256:d' }),
    ]);
    const labels = serviceLabels(stack, obs, { revision: 'rev2', composeHash: 'sha256:new' }, INSTANCE);
    expect(labels['app']?.[LABEL_REVISION]).toBe('rev1');
    expect(labels['app']?.[LABEL_COMPOSE_HASH]).toBe('sha256:old');
    expect(labels['db']?.[LABEL_REVISION]).toBe('rev2');
    expect(labels['db']?.[LABEL_COMPOSE_HASH]).toBe('sha256:new');
  });

  it('rebuilds synced info from the newest container of ours', () => {
    const a = container('web', 'app', { labels: {} });
    const b = {
      ...container('web', 'db'),
      labels: { ...container('web', 'db').labels, [LABEL_REVISION]: 'rev9' },
    };
    expect(syncedFromLabels(project('web', [a, b]), INSTANCE)).toEqual({
      revision: 'rev9',
      composeHash: 'sha256:old',
    });
    expect(
      syncedFromLabels(project('web', [container('web', 'x', { managedBy: null })]), INSTANCE),
    ).toBeNull();
  });
});
