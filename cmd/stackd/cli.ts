/** Argument parsing shared by every command: config flags go to convict, the rest to the command. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CONFIG_FLAGS, loadConfig, type Config } from '../../internal/config/index.js';
import { COMMANDS, type CommandName, type CommandSpec } from './spec.js';

export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly exitCode = 2;
}

/** Flags that set configuration keys: declared once, by the schema (internal/config/schema.ts). */
export { CONFIG_FLAGS } from '../../internal/config/index.js';

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

/**
 * `--flag=true` / `--flag=false` of a boolean flag as `--flag` / `--no-flag` (parseArgs takes no
 * value for a boolean), so every boolean configuration flag can be negated both ways.
 */
function booleanValues(argv: readonly string[], options: NonNullable<ParseArgsConfig['options']>): string[] {
  return argv.map((arg) => {
    const match = /^--([^=]+)=(true|false)$/.exec(arg);
    const name = match?.[1];
    if (name === undefined || options[name]?.type !== 'boolean') return arg;
    return match?.[2] === 'true' ? `--${name}` : `--no-${name}`;
  });
}

export function parse(
  argv: readonly string[],
  options: NonNullable<ParseArgsConfig['options']>,
  allowPositionals = false,
): Parsed {
  try {
    const { values, positionals } = parseArgs({
      args: booleanValues(argv, options),
      options,
      allowPositionals,
      allowNegative: true,
      strict: true,
    });
    return { values: values as Parsed['values'], positionals };
  } catch (error) {
    // Node says "Unknown option '--bogus'"; point at where the valid ones are listed.
    // Node says "Unknown option '--bogus'" (and, where positionals are allowed, how to pass one
    // starting with '-'); point at where the valid ones are listed.
    const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw new UsageError(`${message.replace(/\.$/, '')} (see stackd --help)`);
  }
}

/** The flags and positionals of command `name`, as its spec (spec.ts) declares them. */
export function parseCommand(name: CommandName, argv: readonly string[]): Parsed {
  const spec: CommandSpec = COMMANDS[name];
  const options: NonNullable<ParseArgsConfig['options']> = spec.config ? { ...CONFIG_FLAGS } : {};
  for (const [flag, f] of Object.entries(spec.flags)) {
    options[flag] = f.short === undefined ? { type: f.type } : { type: f.type, short: f.short };
  }
  try {
    return parse(argv, options, spec.positionals);
  } catch (error) {
    throw new UsageError(
      (error as Error).message.replace('(see stackd --help)', `(see stackd ${name} --help)`),
    );
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
