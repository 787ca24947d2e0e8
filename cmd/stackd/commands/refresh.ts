/** `stackd refresh [--server URL]`: ask a running daemon to fetch now. */
import { type Io, parseCommand, write } from '../cli.js';
import { daemonFrom } from '../client.js';

export async function runRefresh(argv: readonly string[], io: Io): Promise<number> {
  const daemon = daemonFrom(parseCommand('refresh', argv).values, io);
  await daemon.call('/api/v1/refresh', { method: 'POST' });
  write(io.stdout, `refresh requested from ${daemon.base}`);
  return 0;
}
