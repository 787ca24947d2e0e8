/** Builds the pieces from the configuration: source, informer, compose runner, state, reconciler. */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { realClock, type Clock } from '../../pkg/clock/index.js';
import { ChildRegistry, createComposeRunner } from '../compose/index.js';
import type { ComposeRunner } from '../compose/types.js';
import type { Config } from '../config/index.js';
import { createInformer } from '../informer/index.js';
import type { Informer } from '../informer/types.js';
import { layoutOf } from '../layout/index.js';
import type { Logger } from '../log/index.js';
import {
  EngineHealth,
  type Reconciler,
  type ReconcileHooks,
  type ReconcileSettings,
  createReconciler,
} from '../reconciler/index.js';
import { createGitSource, createScope, stackLimitsOf, type GitSource } from '../source/index.js';
import { createSecretOpener, loadAgeIdentities, loadDigestKey } from '../secrets/index.js';
import { StateStore, acquireDataDirLock } from '../state/index.js';
import { LogEvent } from '../log/index.js';
import { ConfigError } from '../config/index.js';
import {
  RegistryAuthError,
  type RegistryLogin,
  readRegistryAuth,
  syncDockerLogins,
} from '../registry/index.js';
import { type DigestSource, type Images, createImages } from '../images/index.js';
import { RegistryClient } from '../images/registry_client.js';

export interface Runtime {
  readonly config: Config;
  readonly logger: Logger;
  readonly source: GitSource;
  readonly informer: Informer;
  readonly compose: ComposeRunner;
  readonly state: StateStore;
  readonly reconciler: Reconciler;
  /** Whether the engine starts the containers compose creates (readiness, stackd_runtime_up). */
  readonly engine: EngineHealth;
  readonly inScope: (id: string) => boolean;
  /** `reconcile.enabled`, overridden by a value persisted through the API. */
  readonly settings: () => ReconcileSettings;
  /** Image updates: the digest watcher (started by the controller) and what the reconciler reads of it. */
  readonly images: Images;
  /** Bind the watcher's reports (the controller and metrics come after the runtime). */
  readonly imageHooks: {
    onChange?: (stacks: readonly string[]) => void;
    onCheck?: (result: 'success' | 'failure') => void;
  };
}

export interface RuntimeOptions {
  /**
   * Take `dataDir/stackd.lock` for the life of the process (released on exit), so that no two
   * stackds reconcile one dataDir at once: DataDirLockedError if another holds it. Off only for
   * commands that change nothing (`plan`). @default true
   */
  readonly lock?: boolean;
  /** Parts to use instead of building them from the configuration (tests: in-memory fakes). */
  readonly parts?: RuntimeParts;
}

/** The parts a caller may inject; each one absent is built from the configuration. */
export interface RuntimeParts {
  readonly source?: GitSource;
  readonly informer?: Informer;
  readonly compose?: ComposeRunner;
  readonly state?: StateStore;
  /** Every timer and timestamp of the parts built here. @default realClock */
  readonly clock?: Clock;
  /** Asks registries for tags' digests. @default a RegistryClient with registry.authFile's logins */
  readonly registry?: DigestSource;
}

export async function createRuntime(
  config: Config,
  logger: Logger,
  hooks?: ReconcileHooks,
  options: RuntimeOptions = {},
): Promise<Runtime> {
  const layout = layoutOf(config.dataDir);
  let children: ChildRegistry | undefined;
  if (options.lock !== false) {
    const lock = await acquireDataDirLock({
      dataDir: config.dataDir,
      logger,
      ...(options.parts?.clock ? { clock: options.parts.clock } : {}),
    });
    process.once('exit', () => {
      lock.releaseSync();
    });
    // Compose processes a stackd killed mid-apply left running would race this one: stop them.
    children = new ChildRegistry(layout.children);
    await children.reap(logger);
  }
  const parts = options.parts ?? {};
  const clock = parts.clock ?? realClock;
  const state = parts.state ?? (await StateStore.open({ dataDir: config.dataDir, logger, clock }));
  const inScope = createScope({ include: config.scope.include, exclude: config.scope.exclude });
  // The digest key belongs to the daemon's data directory (made by `run`); `plan` reads it, so
  // that its hashes of stacks with encrypted files are the daemon's.
  const digestKey = (await loadDigestKey(config.dataDir, options.lock !== false)) ?? randomBytes(32);
  const secrets = createSecretOpener(await loadAgeIdentities(config.secrets.ageKeyFile), digestKey);
  const source =
    parts.source ??
    createGitSource({
      url: config.source.url,
      branch: config.source.branch,
      path: config.source.path,
      auth: {
        ...(config.source.auth.username !== '' ? { username: config.source.auth.username } : {}),
        ...(config.source.auth.token !== '' ? { token: config.source.auth.token } : {}),
      },
      ...(config.source.auth.sshKeyFile !== '' && config.source.auth.knownHostsFile !== ''
        ? {
            ssh: {
              keyFile: config.source.auth.sshKeyFile,
              knownHostsFile: config.source.auth.knownHostsFile,
            },
          }
        : {}),
      dataDir: config.dataDir,
      include: config.scope.include,
      exclude: config.scope.exclude,
      fetchTimeoutMs: config.source.fetchTimeout,
      limits: stackLimitsOf(config.source),
      secrets,
      logger,
      clock,
    });
  const informer = parts.informer ?? createInformer({ logger, clock });
  const compose =
    parts.compose ??
    createComposeRunner({
      command: config.compose.command,
      logger,
      // Only the process holding the lock owns dataDir/docker (`plan` must not re-link its plugin).
      pin:
        options.lock === false
          ? { untrusted: [config.dataDir] }
          : { dockerConfig: layout.dockerConfig, untrusted: [config.dataDir] },
      ...(children === undefined ? {} : { children }),
    });
  // Pinned now, before anything could plant an executable where compose would look later.
  const pinned = await compose.pin();
  for (const { path, reason } of pinned.ignored) {
    logger.warn(`not running ${path}: ${reason}`, { event: LogEvent.composeIgnored, path, reason });
  }
  const logins = readLogins(config);
  if (options.lock !== false) await writeRegistryLogins(config, logins, layout.dockerConfig, state, logger);
  const imageHooks: Runtime['imageHooks'] = {};
  const images = createImages(
    {
      registry: parts.registry ?? new RegistryClient({ logins: () => logins, clock }),
      logger,
      clock,
      instance: config.instance,
      policy: () => config.images.update,
      pollIntervalMs: config.images.pollInterval,
    },
    imageHooks,
  );
  const settings = (): ReconcileSettings => ({
    enabled: state.data.reconcileEnabled ?? config.reconcile.enabled,
    prune: config.reconcile.prune,
    allowEmpty: config.reconcile.allowEmpty,
    selfHeal: config.reconcile.selfHeal,
    timeoutMs: config.reconcile.timeout,
    minReadyMs: config.reconcile.minReady,
    crashLoopLimit: config.reconcile.crashLoopLimit,
    rollback: config.reconcile.rollback,
  });
  const engine = new EngineHealth();
  const reconciler = createReconciler({
    engine,
    source,
    informer,
    compose,
    state,
    logger,
    dataDir: config.dataDir,
    instance: config.instance,
    settings,
    clock,
    images: images.facts,
    ...(hooks ? { hooks } : {}),
  });
  return {
    config,
    logger,
    source,
    informer,
    compose,
    state,
    reconciler,
    engine,
    inScope,
    settings,
    images,
    imageHooks,
  };
}

/** The logins of `registry.authFile` (none when unset), read once: compose's pulls and the digest checks use them. */
function readLogins(config: Config): ReadonlyMap<string, RegistryLogin> {
  const file = config.registry.authFile;
  try {
    return file === '' ? new Map() : readRegistryAuth(file).logins;
  } catch (error) {
    if (error instanceof RegistryAuthError) throw new ConfigError(`registry.authFile: ${error.message}`);
    throw error;
  }
}

/**
 * The logins of `registry.authFile` into `dataDir/docker/config.json` (internal/registry), logged
 * as `registry.logins` by registry name. When they changed, stacks held because a pull was denied
 * (`pull_denied`) are tried again: new credentials are the fix, and they come with a restart.
 */
async function writeRegistryLogins(
  config: Config,
  logins: ReadonlyMap<string, RegistryLogin>,
  dockerConfig: string,
  state: StateStore,
  logger: Logger,
): Promise<void> {
  const file = config.registry.authFile;
  await mkdir(dockerConfig, { recursive: true, mode: 0o700 });
  const result = await syncDockerLogins(dockerConfig, logins);
  const { written, removed, replaced, changed } = result;
  if (replaced.length > 0) {
    logger.warn(
      `registry.authFile replaced the login made by hand in ${dockerConfig}/config.json for ${replaced.join(', ')}`,
      { event: LogEvent.registryLogins, replaced, file },
    );
  }
  if (changed || written.length > 0) {
    logger.info(
      written.length === 0
        ? `no registry logins from registry.authFile; removed ${removed.join(', ')}`
        : `registry logins for ${written.join(', ')} from ${file}${removed.length === 0 ? '' : `; removed ${removed.join(', ')}`}`,
      { event: LogEvent.registryLogins, registries: written, removed, changed, file },
    );
  }
  if (!changed) return;
  for (const [id, record] of Object.entries(state.data.stacks)) {
    if (record.held?.cause === 'pull_denied') state.setStack(id, { ...record, held: null });
  }
}
