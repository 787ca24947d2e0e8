/** Stack routes: the status of every stack, of one stack (with history), a manual sync, suspend/resume. */
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
      const prune = pruneField(request.body);
      if (prune === null) {
        return reply.code(400).send({ error: 'expected a JSON body {} or {"prune": true}' });
      }
      if (!controller.sync(id, { prune })) return reply.code(404).send({ error: noSuchStack(id) });
      return reply.code(202).send({ accepted: true, stack: id, prune });
    },
  );

  app.put<{ Params: StackParams }>(
    '/api/v1/stacks/:id/suspend',
    { onRequest: guards.write },
    (request, reply) => {
      const { id } = request.params;
      const reason = suspendBody(request.body);
      if (reason === undefined) {
        return reply.code(400).send({
          error: 'expected a JSON body {"suspended": true, "reason": "…"} or {"suspended": false}',
        });
      }
      if (!controller.suspend(id, reason)) return reply.code(404).send({ error: noSuchStack(id) });
      return reply.code(200).send({ stack: id, suspended: controller.stack(id)?.suspended ?? null });
    },
  );
}

/** Longest suspension reason kept (it is shown in tables and sent in notifications). */
const MAX_REASON = 500;

/** `{"suspended": true, "reason": "…"}` → the reason; `{"suspended": false}` → null; else undefined. */
function suspendBody(body: unknown): string | null | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const { suspended, reason, ...rest } = body as { suspended?: unknown; reason?: unknown };
  if (Object.keys(rest).length > 0 || typeof suspended !== 'boolean') return undefined;
  if (!suspended) return reason === undefined ? null : undefined;
  if (reason === undefined) return 'suspended through the API';
  if (typeof reason !== 'string' || reason.trim() === '') return undefined;
  return reason.trim().slice(0, MAX_REASON);
}

/** `prune` of a sync's body: false when absent, null when the body is not `{}` / `{"prune": bool}`. */
function pruneField(body: unknown): boolean | null {
  if (body === undefined || body === null) return false;
  if (typeof body !== 'object' || Array.isArray(body)) return null;
  const { prune } = body as { prune?: unknown };
  if (prune === undefined) return false;
  return typeof prune === 'boolean' ? prune : null;
}

function noSuchStack(id: string): string {
  return `no stack ${JSON.stringify(id)} (ids are paths relative to source.path, URL-encoded: apps%2Fweb)`;
}
