/** Liveness and readiness probes; open (no token), like `/metrics`. */
import type { FastifyInstance } from 'fastify';
import type { ServerController } from './options.js';

export function registerHealthRoutes(
  app: FastifyInstance,
  controller: ServerController,
  version: string,
): void {
  app.get('/healthz', () => ({ status: 'ok', version }));

  app.get('/readyz', (_request, reply) => {
    if (controller.ready()) return reply.code(200).send({ status: 'ready' });
    return reply.code(503).send({ status: 'not ready', reason: notReadyReason(controller) });
  });
}

function notReadyReason(controller: ServerController): string {
  const reason = controller.notReadyReason?.();
  if (reason !== undefined) return reason;
  return controller.stacks().revision === null
    ? 'no desired state loaded yet (first fetch pending or failing)'
    : 'the Docker engine is not reachable';
}
