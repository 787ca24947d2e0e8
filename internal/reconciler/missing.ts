/** A stack neither desired nor running: `missing`, then forgotten. */
import { LogEvent } from '../log/index.js';
import type { Snapshot } from '../source/types.js';
import type { ReconcileContext } from './context.js';
import type { ReconcileOutcome } from './recorder.js';

/**
 * Neither desired nor running: reported `missing` while the desired state stays at the revision
 * that lacked it; once it has moved on, the stack is forgotten (no longer in the API nor in
 * /metrics).
 */
export function gone(ctx: ReconcileContext, id: string, snapshot: Snapshot): ReconcileOutcome {
  const previous = ctx.recorder.previous(id);
  if (previous === undefined) return { kind: 'noop' };
  if (previous.status !== 'missing') {
    return {
      kind: 'missing',
      record: {
        project: previous.project,
        patch: {
          status: 'missing',
          message: 'not in the desired state and not running',
          services: [],
          missingAt: snapshot.revision,
        },
      },
    };
  }
  if (previous.missingAt === snapshot.revision) return { kind: 'noop' };
  return {
    kind: 'forgotten',
    forget: true,
    log: {
      level: 'info',
      event: LogEvent.stackForgotten,
      fields: {
        project: previous.project,
        revision: snapshot.revision,
        reason: `missing since ${previous.missingAt?.slice(0, 12) ?? 'an earlier revision'}; record dropped`,
      },
    },
  };
}
