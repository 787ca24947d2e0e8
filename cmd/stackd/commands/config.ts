/** `stackd config [--output json]`: the effective configuration, secrets redacted. */
import { dump } from 'js-yaml';
import { displayConfig } from '../../../internal/config/index.js';
import { CONFIG_FLAGS, type Io, OUTPUT_FLAG, configFrom, outputOf, parse, write } from '../cli.js';

export function runConfig(argv: readonly string[], io: Io): Promise<number> {
  const { values } = parse(argv, { ...CONFIG_FLAGS, ...OUTPUT_FLAG });
  const output = outputOf(values);
  const shown = displayConfig(configFrom(values, io));
  write(io.stdout, output === 'json' ? JSON.stringify(shown, null, 2) : dump(shown, { lineWidth: 120 }));
  return Promise.resolve(0);
}
