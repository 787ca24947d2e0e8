/** `createServer`: the fastify instance with every route, and its listen/close life cycle. */
import Fastify from 'fastify';
import type { AddressInfo } from 'node:net';
import { createGuards } from './auth.js';
import { registerControlRoutes } from './control.js';
import { ListenError, hostPort } from './errors.js';
import { registerHealthRoutes } from './health.js';
import { installErrorHandlers } from './http_errors.js';
import { installJsonParser } from './json.js';
import type { ServerOptions } from './options.js';
import { registerMetricsRoute } from './scrape.js';
import { registerStackRoutes } from './stacks.js';
import { registerWebhookRoute } from './webhook.js';

const MIB = 1024 * 1024;
const DEFAULT_CLOSE_GRACE_MS = 10_000;
/** Stack ids are paths; the router's default (100 characters) is too tight for deep ones. */
const MAX_PARAM_LENGTH = 1024;

export interface ListenAddress {
  /** The address bound, e.g. `127.0.0.1` or `::1`. */
  readonly host: string;
  /** The port bound (the one chosen by the system when 0 was asked for). */
  readonly port: number;
  /** `http://127.0.0.1:8700`. */
  readonly url: string;
}

export interface Server {
  /** Binds `host:port`; rejects with a `ListenError` (no stack trace needed) when it cannot. */
  listen(host: string, port: number): Promise<ListenAddress>;
  /** Stops accepting connections and waits for requests in flight (at most `closeGraceMs`, then cuts them). */
  close(): Promise<void>;
}

export function createServer(options: ServerOptions): Server {
  const { controller, logger } = options;
  const bodyLimit = options.bodyLimit ?? MIB;
  const app = Fastify({ logger: false, bodyLimit, routerOptions: { maxParamLength: MAX_PARAM_LENGTH } });
  installJsonParser(app);
  installErrorHandlers(app, logger, bodyLimit);

  const guards = createGuards(options.token, logger);
  registerHealthRoutes(app, controller, options.version);
  registerMetricsRoute(app, options.metrics);
  registerStackRoutes(app, controller, guards);
  registerControlRoutes(app, controller, guards, logger);
  if (options.webhookSecret !== undefined && options.webhookSecret !== '') {
    registerWebhookRoute(app, {
      controller,
      logger,
      metrics: options.metrics,
      secret: options.webhookSecret,
      branch: options.branch,
    });
  }

  return {
    async listen(host, port) {
      try {
        await app.listen({ host, port });
      } catch (error) {
        throw new ListenError(host, port, error);
      }
      const bound = app.server.address() as AddressInfo;
      const url = `http://${hostPort(bound.address, bound.port)}`;
      logger.info(`listening on ${url}`, { event: 'server.listening', address: url });
      return { host: bound.address, port: bound.port, url };
    },
    async close() {
      const cut = setTimeout(() => {
        app.server.closeAllConnections();
      }, options.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS);
      cut.unref();
      try {
        await app.close();
      } finally {
        clearTimeout(cut);
      }
    },
  };
}
