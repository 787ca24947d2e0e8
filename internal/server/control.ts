/** Control routes: a manual refresh, pausing and resuming reconciliation, recent runs. */
import type { FastifyInstance } from 'fastify';
import type { Logger } from '../log/index.js';
import type { Guards } from './auth.js';
import type { ServerController } from './options.js';
import { LogEvent } from '../log/index.js';

export function registerControlRoutes(
  app: FastifyInstance,
  controller: ServerController,
  guards: Guards,
  logger: Logger,
): void {
  app.post('/api/v1/refresh', { onRequest: guards.write }, (request, reply) => {
    logger.info('manual refresh requested', {
      event: LogEvent.apiRefresh,
      remote: request.socket.remoteAddress,
    });
    // Answer at once: the controller coalesces refreshes and logs the fetch's outcome itself.
    controller.refresh('manual').catch(() => undefined);
    return reply.code(202).send({ accepted: true });
  });

  app.put('/api/v1/reconcile', { onRequest: guards.write }, (request, reply) => {
    const enabled = enabledField(request.body);
    if (enabled === undefined) {
      return reply.code(400).send({ error: 'expected a JSON body {"enabled": true} or {"enabled": false}' });
    }
    controller.setReconcileEnabled(enabled);
    return reply.code(200).send({ reconcileEnabled: controller.reconcileEnabled });
  });

  app.get('/api/v1/runs', { onRequest: guards.read }, () => ({ runs: controller.runs() }));
}

function enabledField(body: unknown): boolean | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const { enabled } = body as { enabled?: unknown };
  return typeof enabled === 'boolean' ? enabled : undefined;
}
