/**
 * Configuration: the convict schema of DESIGN.md §5 and its loading (defaults < `--config` file <
 * environment < flags, `_FILE` variants for secrets). A bad value raises a ConfigError naming the
 * key, the value and what is expected; secrets are only ever printed redacted.
 */
export {
  loadConfig,
  ConfigError,
  CONFIG_FLAGS,
  CONFIG_FLAG_HELP,
  type ConfigFlagHelp,
  type Config,
  type FlagValue,
  type LoadOptions,
} from './load.js';
export { redactConfig, displayConfig, REDACTED } from './redact.js';
export { parseDuration, formatDuration, parseListen } from './formats.js';
