/** `stackd plan [--output json]`: per stack, the action a pass would take and why; changes nothing. */
import { createRuntime, planOnce } from '../../../internal/controller/index.js';
import { type Io, configFrom, outputOf, parseCommand, write } from '../cli.js';
import { loggerFor } from '../logger.js';
import { shortRev, table } from '../table.js';

export async function runPlan(argv: readonly string[], io: Io): Promise<number> {
  const { values } = parseCommand('plan', argv);
  const output = outputOf(values);
  const config = configFrom(values, io, true);
  const runtime = await createRuntime(config, loggerFor(config, io), undefined, { lock: false });
  const result = await planOnce(runtime);
  if (output === 'json') {
    write(io.stdout, JSON.stringify(result, null, 2));
  } else {
    const rows = result.stacks.map((s) => [
      s.id,
      s.action,
      s.services.map((v) => `${v.change} ${v.name}`).join(', ') || '-',
      s.reason,
    ]);
    write(
      io.stdout,
      `revision ${shortRev(result.revision)}\n${table(['STACK', 'ACTION', 'SERVICES', 'WHY'], rows)}`,
    );
  }
  // A failed fetch was logged once (source.fetch); `--output json` carries it as fetchError.
  return result.fetchError !== null ? 3 : 0;
}
