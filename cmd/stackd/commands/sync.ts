/**
 * `stackd sync --once [ID...] [--output json]`: one pass (every stack, or only the named ones,
 * forced), the stack table, exit 1 if any stack failed. `stackd sync ID [--server URL]`: ask a
 * running daemon to reconcile one stack now, even if it looks in sync or its commit is held.
 */
import { createRuntime, syncOnce } from '../../../internal/controller/index.js';
import {
  CONFIG_FLAGS,
  type Io,
  OUTPUT_FLAG,
  UsageError,
  configFrom,
  outputOf,
  parse,
  write,
} from '../cli.js';
import { request, serverUrl } from '../client.js';
import { loggerFor } from '../logger.js';
import { stacksTable } from '../table.js';

export async function runSync(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parse(
    argv,
    { ...CONFIG_FLAGS, ...OUTPUT_FLAG, once: { type: 'boolean' }, server: { type: 'string' } },
    true,
  );
  if (values['once'] !== true) {
    const [id, ...more] = positionals;
    if (id === undefined || more.length > 0) {
      throw new UsageError(
        'sync needs --once (one pass here) or one stack id (reconciled by the running daemon)',
      );
    }
    const config = configFrom(values, io);
    const base = serverUrl(values['server'] as string | undefined, config);
    await request(base, `/api/v1/stacks/${encodeURIComponent(id)}/sync`, config.server.token, {
      method: 'POST',
    });
    write(io.stdout, `sync of ${id} requested from ${base}`);
    return 0;
  }
  const output = outputOf(values);
  const config = configFrom(values, io, true);
  const runtime = await createRuntime(config, loggerFor(config, io));
  const { response, fetchError, unknown } = await syncOnce(
    runtime,
    positionals.length > 0 ? positionals : undefined,
  );
  write(io.stdout, output === 'json' ? JSON.stringify(response, null, 2) : stacksTable(response));
  // A failed fetch was logged once (source.fetch); the exit code says it too.
  for (const id of unknown)
    write(io.stderr, `stackd sync: no stack ${id} (not in the desired state nor running)`);
  const failed = response.stacks.some((s) => s.status === 'failed');
  return failed || fetchError !== null || unknown.length > 0 ? 1 : 0;
}
