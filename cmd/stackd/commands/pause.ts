/** `stackd pause` / `stackd resume [--server URL]`: turn a running daemon's reconciliation off or on. */
import { type Io, parseCommand, write } from '../cli.js';
import { daemonFrom } from '../client.js';

async function setEnabled(name: 'pause' | 'resume', argv: readonly string[], io: Io): Promise<number> {
  const daemon = daemonFrom(parseCommand(name, argv).values, io);
  const enabled = name === 'resume';
  await daemon.call('/api/v1/reconcile', { method: 'PUT', body: { enabled } });
  write(
    io.stdout,
    enabled
      ? `reconciliation resumed on ${daemon.base}: every stack is looked at now`
      : `reconciliation paused on ${daemon.base}: nothing is applied or removed until stackd resume`,
  );
  return 0;
}

export const runPause = (argv: readonly string[], io: Io): Promise<number> => setEnabled('pause', argv, io);
export const runResume = (argv: readonly string[], io: Io): Promise<number> => setEnabled('resume', argv, io);
