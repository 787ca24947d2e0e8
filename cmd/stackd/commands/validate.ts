/** `stackd validate [DIR] [--output json]`: check a stacks checkout without Docker, for users' CI. */
import { formatValidateReport, validateDirectory } from '../../../internal/source/index.js';
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

export async function runValidate(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, { ...CONFIG_FLAGS, ...OUTPUT_FLAG }, true);
  if (positionals.length > 1) throw new UsageError(`validate takes one directory, got ${positionals.length}`);
  const output = outputOf(values);
  const config = configFrom(values, io);
  const report = await validateDirectory(positionals[0] ?? '.', {
    path: config.source.path,
    include: [...config.scope.include],
    exclude: [...config.scope.exclude],
  });
  write(io.stdout, output === 'json' ? JSON.stringify(report, null, 2) : formatValidateReport(report));
  return report.stacks.some((s) => s.error !== null) ? 1 : 0;
}
