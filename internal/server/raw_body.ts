/**
 * A POST route that receives its body as raw bytes (what a webhook's HMAC covers), in an
 * encapsulated scope: its catch-all parser applies to this route only.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export function registerRawBodyRoute(
  app: FastifyInstance,
  path: string,
  handler: (request: FastifyRequest, reply: FastifyReply) => FastifyReply | Promise<FastifyReply>,
): void {
  void app.register((scope, _opts, done) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, parsed) => {
      parsed(null, body);
    });
    scope.post(path, handler);
    done();
  });
}
