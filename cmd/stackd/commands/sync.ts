/** `stackd sync --once [--output json]`: one pass, the stack table, exit 1 if any stack failed. */
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
import { loggerFor } from '../logger.js';
import { stacksTable } from '../table.js';

export async function runSync(argv: readonly string[], io: Io): Promise<number> {
  const { values } = parse(argv, { ...CONFIG_FLAGS, ...OUTPUT_FLAG, once: { type: 'boolean' } });
  if (values['once'] !== true) {
    throw new UsageError('sync needs --once (the daemon is `stackd run`)');
  }
  const output = outputOf(values);
  const config = configFrom(values, io, true);
  const runtime = await createRuntime(config, loggerFor(config, io));
  const { response, fetchError } = await syncOnce(runtime);
  write(io.stdout, output === 'json' ? JSON.stringify(response, null, 2) : stacksTable(response));
  if (fetchError !== null) write(io.stderr, `stackd sync: fetch failed: ${fetchError}`);
  const failed = response.stacks.some((s) => s.status === 'failed');
  return failed || fetchError !== null ? 1 : 0;
}
