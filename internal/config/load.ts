/** Loads the effective configuration: defaults < `--config` file < environment < flags. */
import { readFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import convict from 'convict';
import { loadAll as loadYamlDocuments } from 'js-yaml';
import { redactUrl } from '../log/redact.js';
import { RegistryAuthError, readRegistryAuth } from '../registry/auth_file.js';
import {
  ageKeyFileFormat,
  booleanFormat,
  composeCommandFormat,
  durationFormat,
  globListFormat,
  hostListFormat,
  listenFormat,
  originListFormat,
  positiveDurationFormat,
  positiveIntegerFormat,
  secretFormat,
  sizeFormat,
  sourcePathFormat,
  sourceUrlFormat,
} from './formats.js';
import { type Config, FILE_ENV_VARS, schema } from './schema.js';
import { checkSshSettings, sshFileFormat } from './ssh.js';
import {
  httpUrlOrEmptyFormat,
  notifyEventsFormat,
  notifyTargetsFormat,
  repositoryFormat,
  webUrlOrEmptyFormat,
} from './notify.js';

export type { Config } from './schema.js';

/** A bad configuration value or file: the CLI prints the message and exits 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly exitCode = 2;
}

export interface LoadOptions {
  /**
   * The command line's parsed flags by name (`{ 'source-url': '…', prune: true }`, see
   * `CONFIG_FLAGS`); flags that are not configuration flags (`--config` included) are ignored.
   */
  readonly flags?: Readonly<Record<string, FlagValue>>;
  /** @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Path of a YAML or JSON config file (`--config`). */
  readonly configFile?: string;
  /** Fail unless `source.url` is set (commands that fetch). @default false */
  readonly requireSource?: boolean;
}

let formatsAdded = false;
function addFormats(): void {
  if (formatsAdded) return;
  formatsAdded = true;
  convict.addFormats({
    'stackd-duration': durationFormat,
    'positive-duration': positiveDurationFormat,
    'stackd-boolean': booleanFormat,
    'glob-list': globListFormat,
    'listen-address': listenFormat,
    'byte-size': sizeFormat,
    'positive-integer': positiveIntegerFormat,
    secret: secretFormat,
    'host-list': hostListFormat,
    'source-path': sourcePathFormat,
    'compose-command': composeCommandFormat,
    'origin-list': originListFormat,
    'age-key-file': ageKeyFileFormat,
    'ssh-file': sshFileFormat,
    'notify-targets': notifyTargetsFormat,
    'notify-events': notifyEventsFormat,
    'http-url-or-empty': httpUrlOrEmptyFormat,
    'web-url-or-empty': webUrlOrEmptyFormat,
    'scm-repository': repositoryFormat,
    'source-url-or-empty': {
      validate(value: unknown): void {
        if (value !== '') sourceUrlFormat.validate(value);
      },
    },
    'non-empty-string': {
      validate(value: unknown): void {
        if (typeof value !== 'string' || value.trim() === '')
          throw new TypeError('expected a non-empty path');
      },
      // A relative data directory is taken from the working directory at start-up.
      coerce: (value: unknown): unknown =>
        typeof value === 'string' && value.trim() !== '' ? resolve(value) : value,
    },
    'instance-name': {
      validate(value: unknown): void {
        if (typeof value !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(value)) {
          throw new TypeError('expected 1-63 letters, digits, ".", "_" or "-" (a Docker label value)');
        }
      },
    },
  });
}

/** A schema node: a section (mapping of nodes) or a leaf (has a `default`). */
type SchemaNode = Readonly<Record<string, unknown>>;
interface SchemaLeaf {
  readonly doc: string;
  readonly default: unknown;
  readonly format?: unknown;
  readonly env?: string;
  readonly arg?: string;
}

function isLeaf(node: unknown): node is SchemaLeaf {
  return typeof node === 'object' && node !== null && 'default' in node;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every leaf of the schema by its dotted key. */
function leaves(node: SchemaNode, prefix = ''): Map<string, SchemaLeaf> {
  const out = new Map<string, SchemaLeaf>();
  for (const [k, child] of Object.entries(node)) {
    const key = prefix === '' ? k : `${prefix}.${k}`;
    if (isLeaf(child)) out.set(key, child);
    else for (const [kk, leaf] of leaves(child as SchemaNode, key)) out.set(kk, leaf);
  }
  return out;
}

const LEAVES = leaves(schema);

/** What a value is, without its content (it may be a misplaced secret). */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return `a ${typeof value}`;
}

function keysUnder(node: SchemaNode, prefix: string): string {
  return Object.keys(node)
    .map((k) => (prefix === '' ? k : `${prefix}.${k}`))
    .join(', ');
}

/**
 * Checks a config file's mapping against the schema (unknown keys and sections that are not
 * mappings are errors) and makes bare numbers for durations mean seconds, as they do in the
 * environment and on the command line.
 */
function normalizeFile(data: Record<string, unknown>, node: SchemaNode, prefix: string, file: string) {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    const full = prefix === '' ? key : `${prefix}.${key}`;
    const child = Object.hasOwn(node, key) ? node[key] : undefined;
    if (child === undefined) {
      throw new ConfigError(
        `--config ${file}: unknown key ${full}: expected one of ${keysUnder(node, prefix)}`,
      );
    }
    if (isLeaf(child)) {
      out[key] =
        (child.format === 'stackd-duration' || child.format === 'positive-duration') &&
        typeof value === 'number'
          ? String(value)
          : value;
    } else if (value === null) {
      continue; // `source:` with every child commented out
    } else if (!isMapping(value)) {
      throw new ConfigError(
        `--config ${file}: ${full}: expected a mapping of ${keysUnder(child as SchemaNode, full)}, got ${kindOf(value)}`,
      );
    } else {
      out[key] = normalizeFile(value, child as SchemaNode, full, file);
    }
  }
  return out;
}

/** Resolves `X_FILE` variables into `X` (the file's content without the trailing newline). */
function resolveFileVariables(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  for (const name of FILE_ENV_VARS) {
    const file = env[`${name}_FILE`];
    if (file === undefined || file === '') continue;
    try {
      out[name] = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new ConfigError(
        `${name}_FILE: cannot read ${JSON.stringify(file)} (${reason}): expected a readable file holding the value of ${name}`,
      );
    }
  }
  return out;
}

/** One YAML document; an empty file (or only comments) is no configuration. */
function parseYaml(text: string): unknown {
  const documents = loadYamlDocuments(text);
  if (documents.length > 1) throw new Error(`expected one YAML document, got ${documents.length}`);
  return documents[0];
}

function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError(
      `--config: cannot read ${JSON.stringify(path)} (${reason}): expected a readable YAML or JSON file`,
    );
  }
  let data: unknown;
  try {
    data = extname(path).toLowerCase() === '.json' ? (JSON.parse(text) as unknown) : parseYaml(text);
  } catch (error) {
    throw new ConfigError(`--config ${path}: ${(error as Error).message.split('\n')[0] ?? ''}`);
  }
  if (data === undefined || data === null) return {};
  if (!isMapping(data)) {
    throw new ConfigError(`--config ${path}: expected a mapping of configuration keys, got ${kindOf(data)}`);
  }
  return normalizeFile(data, schema, '', path);
}

/** The parsed value of a command-line flag (`node:util` `parseArgs`). */
export type FlagValue = string | boolean | undefined;

/**
 * The command-line flags that set configuration keys, for `parseArgs`: each schema key's `arg`
 * (boolean keys are boolean flags), and `--config`. The schema is the only place flags are declared.
 */
export const CONFIG_FLAGS: Readonly<Record<string, { readonly type: 'string' | 'boolean' }>> = (() => {
  const flags: Record<string, { readonly type: 'string' | 'boolean' }> = { config: { type: 'string' } };
  for (const leaf of LEAVES.values()) {
    if (leaf.arg !== undefined)
      flags[leaf.arg] = { type: leaf.format === 'stackd-boolean' ? 'boolean' : 'string' };
  }
  return Object.freeze(flags);
})();

/** What `--help` says of each configuration flag: the schema's doc, env variable and default key. */
export interface ConfigFlagHelp {
  readonly flag: string;
  readonly boolean: boolean;
  readonly key: string;
  readonly env: string | undefined;
  readonly doc: string;
}

/** Every configuration flag of the schema, in schema order, for `stackd <command> --help`. */
export const CONFIG_FLAG_HELP: readonly ConfigFlagHelp[] = [...LEAVES]
  .filter(([, leaf]) => leaf.arg !== undefined)
  .map(([key, leaf]) => ({
    flag: leaf.arg ?? key,
    boolean: leaf.format === 'stackd-boolean',
    key,
    env: leaf.env,
    doc: leaf.doc,
  }));

/** The configuration flags among `flags` (parsed values by flag name) as [key, text]. */
function flagValues(flags: Readonly<Record<string, FlagValue>>): [string, string][] {
  const out: [string, string][] = [];
  for (const [key, leaf] of LEAVES) {
    const value = leaf.arg === undefined ? undefined : flags[leaf.arg];
    if (value !== undefined) out.push([key, String(value)]);
  }
  return out;
}

/** `reconcile.timeout: …` → `reconcile.timeout (STACKD_RECONCILE_TIMEOUT): …`, naming where it came from. */
function withOrigins(message: string, origins: ReadonlyMap<string, string>): string {
  return message
    .split('\n')
    .map((line) => {
      const match = /^([\w.]+): /.exec(line);
      const origin = match?.[1] === undefined ? undefined : origins.get(match[1]);
      return match === null || origin === undefined
        ? line
        : `${match[1]} (${origin})${line.slice(match[1]?.length)}`;
    })
    .join('\n');
}

export function loadConfig(options: LoadOptions = {}): Config {
  addFormats();
  const env = resolveFileVariables(options.env ?? process.env);
  const file = options.configFile === undefined ? undefined : readConfigFile(options.configFile);
  const flags = flagValues(options.flags ?? {});
  // Flags are applied here, not by convict: its argument parser turns `--branch 1e3` into `1000`.
  const config = convict(schema, { env, args: [] });
  const origins = new Map<string, string>();
  for (const [key, leaf] of LEAVES) {
    if (leaf.env !== undefined && env[leaf.env] !== undefined) {
      const viaFile = (FILE_ENV_VARS as readonly string[]).includes(leaf.env) && env[`${leaf.env}_FILE`];
      origins.set(key, typeof viaFile === 'string' && viaFile !== '' ? `${leaf.env}_FILE` : leaf.env);
    }
  }
  for (const [key] of flags) origins.set(key, `--${LEAVES.get(key)?.arg ?? key}`);
  try {
    if (file !== undefined) config.load(file);
    for (const [key, value] of flags) config.set(key, value);
    config.validate({ allowed: 'strict' });
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    // No `cause`: convict's message holds the raw value, which may be a URL with credentials.
    throw new ConfigError(
      redactUrl(`invalid configuration: ${withOrigins((error as Error).message, origins)}`),
    );
  }
  const result = config.getProperties() as unknown as Config;
  if (result.reconcile.minReady >= result.reconcile.timeout) {
    throw new ConfigError(
      `reconcile.minReady (${origins.get('reconcile.minReady') ?? 'STACKD_RECONCILE_MIN_READY'}): ${result.reconcile.minReady} ms must be shorter than reconcile.timeout (${result.reconcile.timeout} ms), which bounds the whole apply, the readiness wait included`,
    );
  }
  if (result.registry.authFile !== '') {
    // Read now so that a bad file fails the start (exit 2); its content never enters a message.
    try {
      readRegistryAuth(result.registry.authFile);
    } catch (error) {
      if (!(error instanceof RegistryAuthError)) throw error;
      const origin = origins.get('registry.authFile') ?? '--config';
      throw new ConfigError(`registry.authFile (${origin}): ${error.message}`);
    }
  }
  const ssh = checkSshSettings(result.source, options.requireSource === true, (key) => origins.get(key));
  if (ssh !== undefined) throw new ConfigError(ssh);
  if (options.requireSource === true && result.source.url === '') {
    throw new ConfigError(
      'source.url: required (set STACKD_SOURCE_URL, --source-url or source.url in --config): expected an http(s):// or ssh:// Git URL, user@host:path, a file:// URL or a local path',
    );
  }
  return result;
}
