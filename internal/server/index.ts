/**
 * The HTTP face of stackd (DESIGN.md §5): the `/api/v1` status and control API, forge webhooks,
 * `/metrics`, and the health probes, served by fastify. It promises that secrets never leave in an
 * answer or a log line, and that nothing changes unless the caller is authorised: a bearer token,
 * a loopback client, or a valid webhook signature.
 */
export { createServer, type ListenAddress, type Server } from './server.js';
export { ListenError } from './errors.js';
export { isLoopback } from './loopback.js';
export type { ImagePush, ServerController, ServerOptions, StackDetail } from './options.js';
