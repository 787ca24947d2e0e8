/** `createServer`: the fastify instance with every route, and its listen/close life cycle. */
import Fastify from 'fastify';
import type { AddressInfo } from 'node:net';
import { createGuards } from './auth.js';
import { registerControlRoutes } from './control.js';
import { ListenError, hostPort } from './errors.js';
import { registerEventRoute } from './events.js';
import { registerHealthRoutes } from './health.js';
import { installErrorHandlers } from './http_errors.js';
import { installJsonParser } from './json.js';
import { createOriginPolicy } from './origin.js';
import { registerPageRoutes } from './page.js';
import type { ServerOptions } from './options.js';
import { registerRegistryWebhookRoute } from './registry_webhook.js';
import { registerMetricsRoute } from './scrape.js';
import { registerStackRoutes } from './stacks.js';
import { registerWebhookRoute } from './webhook.js';
import { LogEvent } from '../log/index.js';

const MIB = 1024 * 1024;
const DEFAULT_CLOSE_GRACE_MS = 10_000;
/** Stack ids are paths; the router's default (100 characters) is too tight for deep ones. */
const MAX_PARAM_LENGTH = 1024;
/**
 * Bounds on what clients can hold: connections beyond MAX_CONNECTIONS are closed as soon as they
 * are accepted; a request must arrive whole within REQUEST_TIMEOUT_MS (headers within
 * HEADERS_TIMEOUT_MS), an idle keep-alive connection is closed after KEEP_ALIVE_TIMEOUT_MS, any
 * idle socket after IDLE_TIMEOUT_MS. Every request is cheap (/metrics is rendered once per burst),
 * but serving thousands at once still takes one event-loop turn per batch: measured on 2 cores,
 * 5,000 concurrent scrapes served in full put /healthz at p99 115-170 ms (max ~1 s); capped at
 * 512 connections, p99 ~20 ms, the surplus refused.
 */
export const MAX_CONNECTIONS = 512;
const REQUEST_TIMEOUT_MS = 30_000;
const HEADERS_TIMEOUT_MS = 10_000;
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
const IDLE_TIMEOUT_MS = 60_000;

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
  const app = Fastify({
    logger: false,
    bodyLimit,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    requestTimeout: REQUEST_TIMEOUT_MS,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    connectionTimeout: IDLE_TIMEOUT_MS,
  });
  app.server.maxConnections = MAX_CONNECTIONS;
  app.server.headersTimeout = HEADERS_TIMEOUT_MS;
  installJsonParser(app);
  installErrorHandlers(app, logger, bodyLimit);

  const policy = createOriginPolicy(
    { allowedHosts: options.allowedHosts ?? [], allowedOrigins: options.allowedOrigins ?? [] },
    logger,
  );
  app.addHook('onRequest', policy.check);
  const guards = createGuards(options.token, logger, (request, reply) => policy.requireJson(request, reply));
  registerHealthRoutes(app, controller, options.version);
  registerMetricsRoute(app, options.metrics);
  registerStackRoutes(app, controller, guards);
  registerPageRoutes(app, guards, {
    instance: options.instance ?? '',
    version: options.version,
    webUrl: options.webUrl ?? '',
  });
  registerEventRoute(app, controller, guards, {
    logger,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.metrics.eventStreams === undefined
      ? {}
      : { streams: options.metrics.eventStreams.bind(options.metrics) }),
  });
  registerControlRoutes(app, controller, guards, logger);
  const secrets = { hmac: options.webhookSecret ?? '', gitlab: options.gitlabToken ?? '' };
  if (secrets.hmac !== '' || secrets.gitlab !== '') {
    registerWebhookRoute(app, {
      controller,
      logger,
      metrics: options.metrics,
      secrets,
      branch: options.branch,
    });
  }
  // Registry pushes: only when the controller takes them and a sender can authenticate.
  const registry = { hmac: options.webhookSecret ?? '', token: options.registryToken ?? '' };
  if (controller.imagesPushed !== undefined && (registry.hmac !== '' || registry.token !== '')) {
    registerRegistryWebhookRoute(app, {
      imagesPushed: controller.imagesPushed.bind(controller),
      logger,
      metrics: options.metrics,
      secrets: registry,
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
      policy.bound(bound.address);
      const url = `http://${hostPort(bound.address, bound.port)}`;
      logger.info(`listening on ${url}`, { event: LogEvent.serverListening, address: url });
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
