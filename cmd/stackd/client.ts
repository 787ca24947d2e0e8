/** A small client of a running daemon's API, for `status`, `sync ID`, `refresh`, `pause`, `resume`. */
import { readFileSync } from 'node:fs';
import { parseListen } from '../../internal/config/index.js';
import type { Config } from '../../internal/config/index.js';
import type { Io, Parsed } from './cli.js';
import { configFrom } from './cli.js';

/** The daemon answered with an error (exit 1). */
export class ClientError extends Error {
  override readonly name: string = 'ClientError';
  readonly exitCode: number = 1;
}

/** The daemon did not answer at all (exit 4): not running, restarting, or another address. */
export class UnreachableError extends ClientError {
  override readonly name = 'UnreachableError';
  override readonly exitCode = 4;
}

/** Where deploy/install.sh puts the API token (root-only): used when none is configured. */
export const INSTALLED_TOKEN_FILE = '/etc/stackd/api-token';

/**
 * The API token: `server.token` (STACKD_API_TOKEN, STACKD_API_TOKEN_FILE), else the installed
 * token file when this user can read it (root on the host), else none.
 */
export function tokenOf(config: Config, file = INSTALLED_TOKEN_FILE): string {
  if (config.server.token !== '') return config.server.token;
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch {
    return '';
  }
}

/** A running daemon to talk to: its base URL and token, from the flags and configuration. */
export interface Daemon {
  readonly base: string;
  call(path: string, init?: { method?: string; body?: unknown }): Promise<unknown>;
}

export function daemonFrom(values: Parsed['values'], io: Io): Daemon {
  const config = configFrom(values, io);
  const base = serverUrl(values['server'] as string | undefined, config);
  // The installed token file belongs to this host's daemon: it is sent to a loopback address only,
  // never to another machine named by --server (a configured token goes where it is told).
  const token = config.server.token !== '' || isLoopbackUrl(base) ? tokenOf(config) : '';
  return { base, call: (path, init) => request(base, path, token, init) };
}

/** `http://127.0.0.1:…`, `http://[::1]:…`, `http://localhost:…`. */
export function isLoopbackUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return false;
  }
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export function serverUrl(explicit: string | undefined, config: Config): string {
  if (explicit !== undefined) return explicit.replace(/\/+$/, '');
  const listen = parseListen(config.server.listen);
  // Listening on every address (`0.0.0.0`, `::`, none given): this host answers on loopback.
  const every = listen === undefined || listen.host === '' || listen.host === '0.0.0.0';
  const host = every ? '127.0.0.1' : listen.host === '::' ? '::1' : listen.host;
  const shown = host.includes(':') ? `[${host}]` : host;
  return `http://${shown}:${listen?.port ?? 8700}`;
}

export async function request(
  base: string,
  path: string,
  token: string,
  init: { method?: string; body?: unknown } = {},
): Promise<unknown> {
  const headers: Record<string, string> = {};
  if (token !== '') headers['authorization'] = `Bearer ${token}`;
  // Every change is sent as JSON (with `{}` when there is nothing to say): the server refuses
  // changes without it, so that no web page can send them.
  const method = init.method ?? 'GET';
  const payload = init.body ?? (method === 'GET' ? undefined : {});
  if (payload !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, {
      method,
      headers,
      ...(payload !== undefined ? { body: JSON.stringify(payload) } : {}),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new UnreachableError(
      `cannot reach stackd at ${base} (${cause}); is \`stackd run\` running? (--server URL)`,
    );
  }
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  if (!response.ok) {
    const message = (body as { error?: string } | undefined)?.error ?? text;
    throw new ClientError(`stackd at ${base} answered ${response.status}: ${message}`);
  }
  return body;
}
