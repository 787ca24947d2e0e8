/** Argument parsing shared by every command: config flags go to convict, the rest to the command. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CONFIG_FLAGS, loadConfig, type Config } from '../../internal/config/index.js';
import { COMMANDS, type CommandName, type CommandSpec, configFlagsOf } from './spec.js';

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
 * Boolean flags in every form: `--flag`, `--no-flag`, `--flag=true`, `--flag=false`; the last one
 * given wins. Done here rather than by parseArgs' `allowNegative`, which Node has only since
 * 20.16 (stackd supports 20.5). Returns the other arguments, for parseArgs, and the booleans seen.
 */
function takeBooleans(
  argv: readonly string[],
  options: NonNullable<ParseArgsConfig['options']>,
): { rest: string[]; booleans: Map<string, boolean> } {
  const rest: string[] = [];
  const booleans = new Map<string, boolean>();
  const isBoolean = (name: string | undefined): name is string =>
    name !== undefined && Object.hasOwn(options, name) && options[name]?.type === 'boolean';
  for (const [i, arg] of argv.entries()) {
    if (arg === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    const match = /^--(no-)?([^=]+?)(?:=(true|false))?$/.exec(arg);
    const [, no, name, value] = match ?? [];
    if (isBoolean(name) && !(no !== undefined && value !== undefined)) {
      booleans.set(name, no === undefined ? value !== 'false' : false);
    } else rest.push(arg);
  }
  return { rest, booleans };
}

export function parse(
  argv: readonly string[],
  options: NonNullable<ParseArgsConfig['options']>,
  allowPositionals = false,
): Parsed {
  const { rest, booleans } = takeBooleans(argv, options);
  try {
    const { values, positionals } = parseArgs({ args: rest, options, allowPositionals, strict: true });
    return { values: { ...(values as Parsed['values']), ...Object.fromEntries(booleans) }, positionals };
  } catch (error) {
    // Node says "Unknown option '--bogus'" (and, where positionals are allowed, how to pass one
    // starting with '-'); point at where the valid ones are listed.
    const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw new UsageError(`${message.replace(/\.$/, '')} (see stackd --help)`);
  }
}

/** The flags and positionals of command `name`, as its spec (spec.ts) declares them. */
export function parseCommand(name: CommandName, argv: readonly string[]): Parsed {
  const spec: CommandSpec = COMMANDS[name];
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const flag of configFlagsOf(spec)) {
    const option = CONFIG_FLAGS[flag];
    if (option !== undefined) options[flag] = option;
  }
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
