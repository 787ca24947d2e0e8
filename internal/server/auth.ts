/**
 * Access control of `/api/v1`: with `server.token`, a bearer token on every request; without
 * one, mutating requests from loopback clients only. The webhook authenticates by signature.
 */
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { Logger } from '../log/index.js';
import { secretsEqual } from './constant_time.js';
import { isLoopback } from './loopback.js';
import { LogEvent } from '../log/index.js';

export interface Guards {
  /** Reads (GET): the token when one is configured, else open. */
  readonly read: onRequestAsyncHookHandler;
  /** Changes (POST, PUT): the token when one is configured, else loopback clients only. */
  readonly write: onRequestAsyncHookHandler;
  /** What this request may do, for `GET /api/v1/session` (the status page shows its buttons by it). */
  access(request: FastifyRequest): Access;
}

export interface Access {
  /** `server.token` is set: reads need it too. */
  readonly tokenRequired: boolean;
  /** The request carries the right token. */
  readonly authenticated: boolean;
  /** Reads would be answered. */
  readonly canRead: boolean;
  /** Changes (sync, refresh, suspend) would be accepted: the token, or loopback without one. */
  readonly canWrite: boolean;
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/**
 * `requireJson` is asked last on every change (see origin.ts): it answers (415) a request
 * without `Content-Type: application/json`.
 */
export function createGuards(
  token: string | undefined,
  logger: Logger,
  requireJson: (request: FastifyRequest, reply: FastifyReply) => FastifyReply | undefined = () => undefined,
): Guards {
  const configured = token !== undefined && token !== '';

  // Hooks answer early by sending and returning the reply (fastify's contract for async hooks).
  const refuse = (
    request: FastifyRequest,
    reply: FastifyReply,
    code: 401 | 403,
    error: string,
  ): FastifyReply => {
    logger.warn(`refused ${request.method} ${request.routeOptions.url ?? ''}: ${error}`, {
      event: LogEvent.apiRefused,
      method: request.method,
      route: request.routeOptions.url,
      remote: request.socket.remoteAddress,
      status: code,
    });
    if (code === 401) void reply.header('www-authenticate', 'Bearer realm="stackd"');
    // The body (if any) is never read: close the connection rather than leave it half-consumed.
    void reply.header('connection', 'close');
    return reply.code(code).send({ error });
  };

  const tokenOk = (request: FastifyRequest): boolean => {
    const match = BEARER.exec(request.headers.authorization ?? '');
    return match?.[1] !== undefined && secretsEqual(match[1], token ?? '');
  };

  const checkToken = (request: FastifyRequest, reply: FastifyReply): FastifyReply | undefined => {
    if (tokenOk(request)) return undefined;
    return refuse(
      request,
      reply,
      401,
      'missing or wrong API token: send Authorization: Bearer <server.token>',
    );
  };

  return {
    access(request) {
      if (configured) {
        const ok = tokenOk(request);
        return { tokenRequired: true, authenticated: ok, canRead: ok, canWrite: ok };
      }
      const loopback = isLoopback(request.socket.remoteAddress);
      return { tokenRequired: false, authenticated: false, canRead: true, canWrite: loopback };
    },
    read: async (request, reply) => (configured ? checkToken(request, reply) : undefined),
    write: async (request, reply) => {
      if (configured) return checkToken(request, reply) ?? requireJson(request, reply);
      if (!isLoopback(request.socket.remoteAddress)) {
        return refuse(
          request,
          reply,
          403,
          'changes are accepted from loopback clients only; set server.token (STACKD_API_TOKEN) to allow remote clients with a bearer token',
        );
      }
      return requireJson(request, reply);
    },
  };
}
