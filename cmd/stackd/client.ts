/** A small client of a running daemon's API, for `status` and `refresh`. */
import { parseListen } from '../../internal/config/index.js';
import type { Config } from '../../internal/config/index.js';

export class ClientError extends Error {
  override readonly name = 'ClientError';
}

export function serverUrl(explicit: string | undefined, config: Config): string {
  if (explicit !== undefined) return explicit.replace(/\/+$/, '');
  const listen = parseListen(config.server.listen);
  const host =
    listen === undefined || listen.host === '' || listen.host === '0.0.0.0' ? '127.0.0.1' : listen.host;
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
    throw new ClientError(
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
