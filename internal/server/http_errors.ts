/**
 * JSON error answers: `{ "error": "…" }` with the right status for a client's mistake, a generic
 * 500 (logged, never echoed) for ours, and a 404 that hints at URL-encoding stack ids.
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import type { Logger } from '../log/index.js';
import { LogEvent } from '../log/index.js';

/** Answers to fastify's own client errors, worded for an operator and never echoing the body. */
const CLIENT_ERRORS: Readonly<Record<string, string>> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed JSON body',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'empty JSON body',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'request body length does not match Content-Length',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported Content-Type: send application/json',
};

export function installErrorHandlers(app: FastifyInstance, logger: Logger, bodyLimit: number): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 500) {
      logger.error(`${request.method} ${request.routeOptions.url ?? request.url} failed: ${error.message}`, {
        event: LogEvent.httpError,
        method: request.method,
        route: request.routeOptions.url,
        reason: error.message,
      });
      return reply.code(500).send({ error: 'internal server error (see the stackd log)' });
    }
    const known =
      error.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? `request body larger than ${bodyLimit} bytes`
        : CLIENT_ERRORS[error.code];
    return reply.code(status).send({ error: known ?? error.message });
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.replace(/[?#].*$/, '');
    const hint = path.startsWith('/api/v1/stacks/')
      ? '; a stack id containing / must be URL-encoded (apps%2Fweb)'
      : '';
    return reply.code(404).send({ error: `no such endpoint: ${request.method} ${path}${hint}` });
  });
}
