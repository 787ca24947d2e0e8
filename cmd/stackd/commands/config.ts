/** `stackd config [--output json]`: the effective configuration, secrets redacted. */
import { dump } from 'js-yaml';
import { displayConfig } from '../../../internal/config/index.js';
import { type Io, configFrom, outputOf, parseCommand, write } from '../cli.js';

export function runConfig(argv: readonly string[], io: Io): Promise<number> {
  const { values } = parseCommand('config', argv);
  const output = outputOf(values);
  const shown = displayConfig(configFrom(values, io));
  write(io.stdout, output === 'json' ? JSON.stringify(shown, null, 2) : dump(shown, { lineWidth: 120 }));
  return Promise.resolve(0);
}
