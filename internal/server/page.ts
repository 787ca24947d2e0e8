/**
 * The status page: `GET /` (every stack) and `GET /stacks/<id>` (one stack) serve one HTML shell;
 * `/ui/app.js` (compiled from ui/app.ts, with view.js, stack_view.js and sse.js), `/ui/app.css` and `/ui/favicon.svg` do the rest in the
 * browser, reading the same `/api/v1` endpoints as everyone else (and `GET /api/v1/events` for
 * live changes). The shell and assets hold no data, so they are served without a token; the
 * data and the actions keep their guards. `GET /api/v1/session` tells the page what this request
 * may do, so that it shows action buttons only where they would be accepted.
 *
 * Libraries: @fastify/static serves the assets (ETag, 304, content types, HEAD; an allow-list
 * keeps the sources and source maps next to them out), @fastify/helmet sets the security headers
 * on every answer (a strict Content-Security-Policy with no `unsafe-inline`, nosniff,
 * frame-ancestors none). The browser code has no framework: the page is a table and a detail
 * view, built with `textContent` (never HTML strings), so every string from Git or Docker is text.
 */
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import helmet from '@fastify/helmet';
import fastifyStatic from '@fastify/static';
import type { Guards } from './auth.js';

/** Where the assets are: next to this module (dist/internal/server/ui once built). */
const UI_DIR = fileURLToPath(new URL('./ui/', import.meta.url));
/** The files under /ui/ a browser may fetch. */
const ASSETS = new Set(['/app.js', '/view.js', '/stack_view.js', '/sse.js', '/app.css', '/favicon.svg']);

/** The Content-Security-Policy: only this origin's own script, style and connections. */
const CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'"],
  connectSrc: ["'self'"],
  baseUri: ["'none'"],
  formAction: ["'none'"],
  frameAncestors: ["'none'"],
};

export interface PageOptions {
  /** `instance`: shown in the page's title. */
  readonly instance: string;
  readonly version: string;
  /** `source.webUrl` (empty: revisions are not links). */
  readonly webUrl: string;
}

export function registerPageRoutes(app: FastifyInstance, guards: Guards, options: PageOptions): void {
  void app.register(helmet, {
    global: true,
    contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY },
    // TLS is a proxy's business: a Strict-Transport-Security header from here would pin it.
    strictTransportSecurity: false,
  });
  void app.register(fastifyStatic, {
    root: UI_DIR,
    prefix: '/ui/',
    index: false,
    // The shell is sent by the routes below, never as /ui/index.html.
    allowedPath: (path, _root, request) => {
      const file = path.startsWith('/') ? path : `/${path}`;
      return ASSETS.has(file) || (file === '/index.html' && !request.url.startsWith('/ui/'));
    },
    cacheControl: false,
    setHeaders: (res) => {
      // Revalidated each load (ETag): an upgraded stackd never runs an old page.
      res.setHeader('cache-control', 'no-cache');
    },
  });

  const shell = (_request: FastifyRequest, reply: FastifyReply): FastifyReply => reply.sendFile('index.html');
  app.get('/', shell);
  app.get('/stacks/*', shell);

  app.get('/api/v1/session', (request) => ({
    ...guards.access(request),
    instance: options.instance,
    version: options.version,
    webUrl: options.webUrl,
  }));
}
