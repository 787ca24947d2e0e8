/**
 * JSON error answers: `{ "error": "…" }` with the right status for a client's mistake, a generic
 * 500 (logged, never echoed) for ours, and a 404 that hints at URL-encoding stack ids.
 */
import type { IncomingMessage } from 'node:http';
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

/**
 * How long the rest of an oversized body is read (and discarded) before the 413 is sent. Answering
 * while the client still writes makes the server close a socket with unread data: the kernel
 * resets the connection and the client may lose the 413 it was sent (nginx's "lingering close").
 */
const LINGER_MS = 2000;

/** Resolves once the request has been read to its end (discarding it) or `ms` have passed. */
function drained(raw: IncomingMessage, ms: number): Promise<void> {
  if (raw.complete || raw.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      raw.off('end', done);
      raw.off('close', done);
      raw.off('error', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    raw.on('end', done);
    raw.on('close', done);
    raw.on('error', done);
    raw.resume();
  });
}

export function installErrorHandlers(app: FastifyInstance, logger: Logger, bodyLimit: number): void {
  app.setErrorHandler(async (error: FastifyError, request, reply) => {
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
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      await drained(request.raw, LINGER_MS);
      return reply
        .code(413)
        .header('connection', 'close')
        .send({ error: `request body larger than ${bodyLimit} bytes` });
    }
    return reply.code(status).send({ error: CLIENT_ERRORS[error.code] ?? error.message });
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.replace(/[?#].*$/, '');
    const hint = path.startsWith('/api/v1/stacks/')
      ? '; a stack id containing / must be URL-encoded (apps%2Fweb)'
      : '';
    return reply.code(404).send({ error: `no such endpoint: ${request.method} ${path}${hint}` });
  });
}
