/** `GET /metrics`: the registry in the Prometheus text format; open (no token), like the probes. */
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../metrics/index.js';

export function registerMetricsRoute(app: FastifyInstance, metrics: Pick<Metrics, 'registry'>): void {
  app.get('/metrics', async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.header('content-type', metrics.registry.contentType).send(text);
  });
}
