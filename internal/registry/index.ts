/**
 * Private registries: the logins of `registry.authFile`, written into the private config.json of
 * the compose processes stackd starts (`<dataDir>/docker`).
 */
export {
  parseRegistryAuth,
  readRegistryAuth,
  RegistryAuthError,
  type RegistryLogin,
  type RegistryLogins,
} from './auth_file.js';
export { syncDockerLogins, CONFIG_FILE, MANAGED_FILE, type SyncResult } from './docker_config.js';
