/** `stackd refresh [--server URL]`: ask a running daemon to fetch now. */
import { CONFIG_FLAGS, type Io, configFrom, parse, write } from '../cli.js';
import { request, serverUrl } from '../client.js';

export async function runRefresh(argv: readonly string[], io: Io): Promise<number> {
  const { values } = parse(argv, { ...CONFIG_FLAGS, server: { type: 'string' } });
  const config = configFrom(values, io);
  const base = serverUrl(values['server'] as string | undefined, config);
  await request(base, '/api/v1/refresh', config.server.token, { method: 'POST' });
  write(io.stdout, `refresh requested from ${base}`);
  return 0;
}
