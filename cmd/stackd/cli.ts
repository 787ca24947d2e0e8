/** Argument parsing shared by every command: config flags go to convict, the rest to the command. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadConfig, type Config } from '../../internal/config/index.js';

export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly exitCode = 2;
}

/** Flags that set configuration keys: declared once, by the schema (internal/config/schema.ts). */
export { CONFIG_FLAGS } from '../../internal/config/index.js';

export const OUTPUT_FLAG = {
  output: { type: 'string', short: 'o' },
} as const satisfies ParseArgsConfig['options'];

export type Output = 'text' | 'json';

export interface Io {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export interface Parsed {
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
}

export function parse(
  argv: readonly string[],
  options: NonNullable<ParseArgsConfig['options']>,
  allowPositionals = false,
): Parsed {
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options, allowPositionals, strict: true });
    return { values: values as Parsed['values'], positionals };
  } catch (error) {
    // Node says "Unknown option '--bogus'"; point at where the valid ones are listed.
    throw new UsageError(`${(error as Error).message.replace(/\.$/, '')} (see stackd --help)`);
  }
}

export function outputOf(values: Parsed['values']): Output {
  const output = values['output'] ?? 'text';
  if (output !== 'text' && output !== 'json') {
    throw new UsageError(`--output: expected text or json, got ${JSON.stringify(output)}`);
  }
  return output;
}

/** Loads the configuration from the config flags among `values`. */
export function configFrom(values: Parsed['values'], io: Io, requireSource = false): Config {
  const configFile = values['config'];
  return loadConfig({
    flags: values,
    env: io.env,
    requireSource,
    ...(typeof configFile === 'string' ? { configFile } : {}),
  });
}

export function write(stream: NodeJS.WritableStream, text: string): void {
  stream.write(text.endsWith('\n') ? text : `${text}\n`);
}
