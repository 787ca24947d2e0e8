/**
 * `stackd sync --once [ID...] [--output json]`: one pass (every stack, or only the named ones,
 * forced), the stack table, exit 1 if any stack failed, 3 if the fetch failed. `stackd sync ID
 * [--prune] [--server URL]`: ask a running daemon to reconcile one stack now, even if it looks in
 * sync or its commit is held; with `--prune`, remove it this once if it is gone from Git.
 */
import { createRuntime, syncOnce } from '../../../internal/controller/index.js';
import { type Io, UsageError, configFrom, outputOf, parseCommand, write } from '../cli.js';
import { daemonFrom } from '../client.js';
import { loggerFor } from '../logger.js';
import { stacksTable } from '../table.js';

export async function runSync(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand('sync', argv);
  if (values['once'] !== true) {
    const [id, ...more] = positionals;
    if (id === undefined || more.length > 0) {
      throw new UsageError(
        'sync needs --once (one pass here) or one stack id (reconciled by the running daemon)',
      );
    }
    const daemon = daemonFrom(values, io);
    const prune = values['prune'] === true;
    await daemon.call(`/api/v1/stacks/${encodeURIComponent(id)}/sync`, {
      method: 'POST',
      body: prune ? { prune } : {},
    });
    write(
      io.stdout,
      `sync of ${id} requested from ${daemon.base}${prune ? ' (removed if gone from Git)' : ''}; stackd status ${id} shows the outcome`,
    );
    return 0;
  }
  const output = outputOf(values);
  const config = configFrom(values, io, true);
  const runtime = await createRuntime(config, loggerFor(config, io));
  const { response, fetchError, unknown } = await syncOnce(
    runtime,
    positionals.length > 0 ? positionals : undefined,
  );
  write(
    io.stdout,
    output === 'json' ? JSON.stringify(response, null, 2) : stacksTable(response, Date.now(), false),
  );
  // A failed fetch was logged once (source.fetch); the exit code says it too.
  for (const id of unknown)
    write(io.stderr, `stackd sync: no stack ${id} (not in the desired state nor running)`);
  if (fetchError !== null) return 3;
  return response.stacks.some((s) => s.status === 'failed') || unknown.length > 0 ? 1 : 0;
}
