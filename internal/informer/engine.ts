/** Naming the Docker engine and its failures in messages operators can act on. */
import type Dockerode from 'dockerode';

/** Thrown by `observeProject` when the engine does not answer; `cause` is the client's error. */
export class EngineUnreachableError extends Error {
  override readonly name = 'EngineUnreachableError';
  readonly endpoint: string;

  constructor(message: string, endpoint: string, options?: { cause?: unknown }) {
    super(message, options);
    this.endpoint = endpoint;
  }
}

interface ModemLike {
  /** A path, or (no DOCKER_HOST) a function that finds the default socket, resolved on first use. */
  readonly socketPath?: unknown;
  readonly socketPathCache?: unknown;
  readonly host?: unknown;
  readonly port?: unknown;
  readonly protocol?: unknown;
}

/** `unix:///var/run/docker.sock`, `tcp://10.0.0.5:2376`, `ssh://host`, as DOCKER_HOST spells them. */
export function describeEndpoint(docker: Dockerode): string {
  const modem = (docker as { modem?: ModemLike }).modem ?? {};
  const socketPath =
    typeof modem.socketPath === 'string'
      ? modem.socketPath
      : typeof modem.socketPathCache === 'string'
        ? modem.socketPathCache
        : typeof modem.socketPath === 'function'
          ? '/var/run/docker.sock'
          : undefined;
  if (socketPath !== undefined) {
    return socketPath.startsWith('//./pipe/') ? `npipe://${socketPath}` : `unix://${socketPath}`;
  }
  if (typeof modem.host === 'string') {
    const scheme = modem.protocol === 'ssh' ? 'ssh' : 'tcp';
    const port = typeof modem.port === 'string' || typeof modem.port === 'number' ? `:${modem.port}` : '';
    return `${scheme}://${modem.host}${port}`;
  }
  return 'the default Docker endpoint';
}

/** `cannot reach Docker engine at unix:///var/run/docker.sock: connect ENOENT /var/run/docker.sock`. */
export function engineErrorMessage(endpoint: string, error: unknown): string {
  const statusCode = (error as { statusCode?: unknown } | null)?.statusCode;
  if (typeof statusCode === 'number')
    return `Docker engine at ${endpoint} answered with an error: ${reasonOf(error)}`;
  return `cannot reach Docker engine at ${endpoint}: ${reasonOf(error)}`;
}

/** `lost the Docker engine at unix:///var/run/docker.sock: event stream ended`. */
export function streamLostMessage(endpoint: string, error: unknown): string {
  return `lost the Docker engine at ${endpoint}: ${reasonOf(error)}`;
}

/** An error's message; errors from another realm (node core under jest) fail `instanceof Error`. */
function reasonOf(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' && message !== '' ? message : String(error);
}
