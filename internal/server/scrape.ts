/** `GET /metrics`: the registry in the Prometheus text format; open (no token), like the probes. */
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../metrics/index.js';

export function registerMetricsRoute(
  app: FastifyInstance,
  metrics: Pick<Metrics, 'registry' | 'render'>,
): void {
  app.get('/metrics', async (_request, reply) => {
    // Rendered once for a burst of scrapes, and again as soon as anything changes (Metrics.render).
    const text = await metrics.render();
    return reply.header('content-type', metrics.registry.contentType).send(text);
  });
}
