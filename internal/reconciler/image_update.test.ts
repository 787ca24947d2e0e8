import { describe, expect, it } from '@jest/globals';
import { LABEL_IMAGE_DIGEST } from '../labels/index.js';
import type { StackDigests } from '../images/digests.js';
import { decide } from './decide.js';
import { INSTANCE, container, desiredStack, project } from './fixtures.test-helpers.js';
import { digestUpdates, keptRejections, withRejections } from './image_update.js';
import { planDesired } from './plan.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const D3 = `sha256:${'3'.repeat(64)}`;
const stack = desiredStack('web', { app: { image: 'r:5000/app:1' }, db: { image: 'r:5000/db:1' } });
const observed = project('web', [
  container('web', 'app', { labels: { [LABEL_IMAGE_DIGEST]: D1 } }),
  container('web', 'db'),
]);
const digests = (
  app: Partial<{ running: string; available: string; rejected: string; want: string }>,
): StackDigests => new Map([['app', { policy: 'digest' as const, image: 'r:5000/app:1', ...app }]]);

describe('image updates in the plan', () => {
  it('recreates only the service whose wanted digest is not the one it runs', () => {
    const plan = planDesired(stack, observed, {
      instance: INSTANCE,
      digests: digests({ running: D1, available: D2, want: D2 }),
    });
    expect(plan).toMatchObject({ action: 'update', driftOnly: false });
    expect(plan.services).toEqual([
      {
        name: 'app',
        change: 'recreate',
        why: `digest ${D1.slice(0, 19)} → ${D2.slice(0, 19)}`,
        digest: { from: D1, to: D2 },
      },
    ]);
    expect([...digestUpdates(plan, digests({ running: D1, available: D2, want: D2 })).keys()]).toEqual([
      'app',
    ]);
  });

  it('changes nothing without a wanted digest (notify, rejected, or not known)', () => {
    for (const d of [digests({ running: D1, available: D2 }), digests({ running: D1 }), undefined]) {
      expect(planDesired(stack, observed, { instance: INSTANCE, ...(d ? { digests: d } : {}) }).action).toBe(
        'none',
      );
    }
  });

  it('a held hash is applied again when a new digest comes, not for the rejected one', () => {
    const input = {
      desired: stack,
      observed,
      desiredEmpty: false,
      settings: { enabled: true, prune: true, allowEmpty: false, selfHeal: true },
      instance: INSTANCE,
      force: false,
      held: {
        revision: 'r',
        composeHash: stack.composeHash ?? '',
        cause: 'not_ready' as const,
        message: 'bad',
      },
    };
    expect(decide({ ...input, digests: digests({ running: D1, available: D2, rejected: D2 }) }).kind).toBe(
      'held_failure',
    );
    expect(
      decide({ ...input, digests: digests({ running: D1, available: D3, rejected: D2, want: D3 }) }).kind,
    ).toBe('apply');
  });

  it('keeps a rejected digest while the registry still serves it, forgets it when it moves or on a manual sync', () => {
    const rejected = withRejections(null, digests({ running: D1, available: D2, want: D2 }), 'failed', 'now');
    expect(rejected).toEqual({ app: { digest: D2, message: 'failed', at: 'now' } });
    expect(keptRejections(rejected, digests({ running: D1, available: D2 }), false)).toEqual(rejected);
    // Not known since a restart: kept.
    expect(keptRejections(rejected, digests({ running: D1 }), false)).toEqual(rejected);
    expect(keptRejections(rejected, digests({ running: D1, available: D3 }), false)).toBeNull();
    expect(keptRejections(rejected, digests({ running: D1, available: D2 }), true)).toBeNull();
    // No longer watched.
    expect(keptRejections(rejected, new Map(), false)).toBeNull();
  });
});
