/**
 * `stackd pause` / `stackd resume [--server URL]`: turn a running daemon's reconciliation off or
 * on. `stackd suspend ID [--reason TEXT]` / `stackd resume ID`: one stack.
 */
import { type Io, UsageError, parseCommand, write } from '../cli.js';
import { type Daemon, daemonFrom } from '../client.js';

async function setSuspended(daemon: Daemon, id: string, reason: string | null, io: Io): Promise<number> {
  await daemon.call(`/api/v1/stacks/${encodeURIComponent(id)}/suspend`, {
    method: 'PUT',
    body: reason === null ? { suspended: false } : { suspended: true, reason },
  });
  write(
    io.stdout,
    reason === null
      ? `${id} resumed on ${daemon.base}: reconciled now (a suspension in its compose file stays)`
      : `${id} suspended on ${daemon.base}: nothing is applied to it until stackd resume ${id}`,
  );
  return 0;
}

async function setEnabled(name: 'pause' | 'resume', argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand(name, argv);
  const daemon = daemonFrom(values, io);
  if (positionals.length > 1) throw new UsageError(`${name} takes at most one stack id`);
  const [id] = positionals;
  if (id !== undefined) return setSuspended(daemon, id, null, io);
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

export async function runSuspend(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand('suspend', argv);
  const [id, ...more] = positionals;
  if (id === undefined || more.length > 0) throw new UsageError('suspend takes one stack id');
  const reason = typeof values['reason'] === 'string' ? values['reason'].trim() : '';
  return setSuspended(
    daemonFrom(values, io),
    id,
    reason === '' ? 'suspended with stackd suspend' : reason,
    io,
  );
}
