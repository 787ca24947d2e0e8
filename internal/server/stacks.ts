/** Stack routes: the status of every stack, of one stack (with history), and a manual sync. */
import type { FastifyInstance } from 'fastify';
import type { Guards } from './auth.js';
import type { ServerController } from './options.js';

interface StackParams {
  /** The stack id, URL-decoded by the router (`apps%2Fweb` → `apps/web`). */
  readonly id: string;
}

export function registerStackRoutes(
  app: FastifyInstance,
  controller: ServerController,
  guards: Guards,
): void {
  app.get('/api/v1/stacks', { onRequest: guards.read }, () => controller.stacks());

  app.get<{ Params: StackParams }>('/api/v1/stacks/:id', { onRequest: guards.read }, (request, reply) => {
    const detail = controller.stack(request.params.id);
    if (detail === undefined) return reply.code(404).send({ error: noSuchStack(request.params.id) });
    return detail;
  });

  app.post<{ Params: StackParams }>(
    '/api/v1/stacks/:id/sync',
    { onRequest: guards.write },
    (request, reply) => {
      const { id } = request.params;
      if (!controller.sync(id)) return reply.code(404).send({ error: noSuchStack(id) });
      return reply.code(202).send({ accepted: true, stack: id });
    },
  );
}

function noSuchStack(id: string): string {
  return `no stack ${JSON.stringify(id)} (ids are paths relative to source.path, URL-encoded: apps%2Fweb)`;
}
