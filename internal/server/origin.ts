/**
 * The API answers only its own origin. A web page the operator visits can make the browser send
 * requests to `127.0.0.1:8700` (CSRF) or, through DNS rebinding, to a name of the attacker's that
 * resolves to it. So: the `Host` header must name this server (its listen address, `localhost`,
 * a loopback address, this host's name, or `server.allowedHosts`), else 421; a request carrying
 * an `Origin` other than the server's own (or `server.allowedOrigins`) is refused, else 403;
 * and requests that change something must say `Content-Type: application/json`, which no
 * browser sends cross-origin without a preflight that stackd never grants, else 415. The
 * webhooks (forges' and registries') are exempt from all three: they are authenticated by their
 * signature or token, and senders deliver them with whatever host name their URL names.
 */
import { hostname, networkInterfaces } from 'node:os';
import { isIP } from 'node:net';
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { Logger } from '../log/index.js';
import { isLoopback } from './loopback.js';
import { LogEvent } from '../log/index.js';

export interface OriginPolicyOptions {
  /** `server.allowedHosts`: more names (or addresses) the API answers to. */
  readonly allowedHosts?: readonly string[];
  /** `server.allowedOrigins`: web origins (`https://grafana.example.com`) whose pages may call it. */
  readonly allowedOrigins?: readonly string[];
}

/** Paths authenticated otherwise (by signature or token), exempt from the origin rules. */
const EXEMPT = new Set(['/api/v1/webhook', '/api/v1/webhook/registry']);

export interface OriginPolicy {
  /** Call once listening: the bound address joins the names the API answers to. */
  bound(address: string): void;
  /** The global hook: Host and Origin. */
  readonly check: onRequestAsyncHookHandler;
  /** For mutating routes: the reply sent when it lacks `Content-Type: application/json`. */
  requireJson(request: FastifyRequest, reply: FastifyReply): FastifyReply | undefined;
}

export function createOriginPolicy(options: OriginPolicyOptions, logger: Logger): OriginPolicy {
  const names = new Set<string>(['localhost']);
  const own = hostname().toLowerCase();
  if (own !== '') names.add(own).add(own.split('.')[0] ?? own);
  for (const host of options.allowedHosts ?? []) names.add(normalise(host));
  const origins = new Set((options.allowedOrigins ?? []).map((o) => o.replace(/\/$/, '').toLowerCase()));

  const refuse = (
    request: FastifyRequest,
    reply: FastifyReply,
    code: 403 | 415 | 421,
    error: string,
  ): FastifyReply => {
    logger.warn(`refused ${request.method} ${request.url.replace(/[?#].*$/, '')}: ${error}`, {
      event: LogEvent.apiRefused,
      method: request.method,
      route: request.routeOptions.url,
      remote: request.socket.remoteAddress,
      status: code,
      reason: error,
    });
    void reply.header('connection', 'close');
    return reply.code(code).send({ error });
  };

  const hostAllowed = (host: string): boolean => {
    const name = normalise(host);
    if (names.has(name) || name.endsWith('.localhost')) return true;
    return isIP(name) !== 0 && isLoopback(name);
  };

  return {
    bound(address) {
      const bare = normalise(address);
      if (bare === '0.0.0.0' || bare === '::' || bare === '') {
        // Every address: each of this host's own addresses is a name of the API.
        for (const list of Object.values(networkInterfaces()))
          for (const a of list ?? []) names.add(normalise(a.address));
      } else {
        names.add(bare);
      }
    },
    check: async (request, reply) => {
      if (EXEMPT.has(request.url.replace(/[?#].*$/, ''))) return undefined;
      const host = request.headers.host;
      if (host !== undefined && !hostAllowed(hostOf(host))) {
        return refuse(
          request,
          reply,
          421,
          `Host ${JSON.stringify(host)} is not a name of this stackd; add it to server.allowedHosts (STACKD_SERVER_ALLOWED_HOSTS) if it is`,
        );
      }
      const origin = request.headers.origin;
      if (origin !== undefined) {
        const wanted = origin.replace(/\/$/, '').toLowerCase();
        const self =
          host === undefined ? [] : [`http://${host}`, `https://${host}`].map((o) => o.toLowerCase());
        if (!self.includes(wanted) && !origins.has(wanted)) {
          return refuse(
            request,
            reply,
            403,
            `requests from web pages of ${JSON.stringify(origin)} are refused; add the origin to server.allowedOrigins (STACKD_SERVER_ALLOWED_ORIGINS) to allow them`,
          );
        }
      }
      return undefined;
    },
    requireJson(request, reply) {
      const type = request.headers['content-type'] ?? '';
      if (/^application\/json\s*(;|$)/i.test(type)) return undefined;
      return refuse(
        request,
        reply,
        415,
        'send Content-Type: application/json (requests that change something must, so that no web page can send them)',
      );
    },
  };
}

/** The host part of a `Host` header value: `[::1]:8700` → `[::1]`, `name:80` → `name`. */
function hostOf(header: string): string {
  const value = header.trim();
  if (value.startsWith('[')) return value.slice(0, value.indexOf(']') + 1);
  const colon = value.lastIndexOf(':');
  return colon === -1 || value.indexOf(':') !== colon ? value : value.slice(0, colon);
}

/** Lower-case, without brackets, zone or trailing dot: `[FE80::1%eth0]` → `fe80::1`. */
function normalise(host: string): string {
  let value = host.trim().toLowerCase();
  if (value.startsWith('[') && value.endsWith(']')) value = value.slice(1, -1);
  return value.replace(/%.*$/, '').replace(/\.$/, '');
}
