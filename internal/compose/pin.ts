/**
 * Pinning the compose command once, at start: every candidate becomes an absolute path, found
 * the way the docker CLI and the shell would find it, except that nothing inside a directory
 * stackd was told to distrust (its data directory, where containers bind-mount work trees and
 * where the old unit put HOME) is ever run. `docker compose` runs with `DOCKER_CONFIG` set to a
 * directory stackd owns, whose `cli-plugins/docker-compose` is a link to the plugin found here,
 * so a plugin planted in `~/.docker/cli-plugins` later is never picked up.
 */
import { mkdir, readdir, realpath, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { basename, delimiter, isAbsolute, join, resolve } from 'node:path';
import { emptyEnvFileOf } from '../layout/index.js';
import { AUTO_CANDIDATES, displayCommand, splitCommand } from './command.js';
import { INSTALL_V2 } from './v2_only.js';
import { isExecutable, isInside } from '../proc/executables.js';

/** Where the docker CLI looks for CLI plugins after the user's directory (docker/cli, Linux). */
export const SYSTEM_PLUGIN_DIRS: readonly string[] = [
  '/usr/local/lib/docker/cli-plugins',
  '/usr/local/libexec/docker/cli-plugins',
  '/usr/lib/docker/cli-plugins',
  '/usr/libexec/docker/cli-plugins',
];

export interface PinOptions {
  /** `auto`, or the configured command line. */
  readonly command: string;
  /** The environment stackd started with: `PATH`, `HOME`, `DOCKER_CONFIG`. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * The directory given to compose as `DOCKER_CONFIG` (created, mode 0700). Its `cli-plugins/`
   * is stackd's: reset at every pin to hold only the link to the pinned plugin.
   * @default none: DOCKER_CONFIG is left as it is (tests of the runner alone)
   */
  readonly dockerConfig?: string;
  /** Directories nothing is run from (stackd's data directory). @default [] */
  readonly untrusted?: readonly string[];
  /** @default SYSTEM_PLUGIN_DIRS */
  readonly systemPluginDirs?: readonly string[];
}

export interface PinnedCandidate {
  /** What to run: the executable as an absolute path, then its words (`compose`). */
  readonly argv: readonly string[];
  /** How people write it, for messages: `docker compose`, `docker-compose`. */
  readonly shown: string;
}

export interface PinnedCommand {
  /** Candidates in order (one, unless `auto`), tried until one answers `version`. */
  readonly candidates: readonly PinnedCandidate[];
  /** Executables passed over, and why (logged as `compose.ignored`). */
  readonly ignored: readonly { readonly path: string; readonly reason: string }[];
  /** Set when a configured command cannot be found at all. */
  readonly problem?: string;
  /** The environment compose runs with on top of stackd's own: `DOCKER_CONFIG`. */
  readonly env: Readonly<Record<string, string>>;
  /** The candidates tried, as people write them (for "no compose command works" messages). */
  readonly tried: string;
  /** Where the `docker compose` plugin was looked for, in order. */
  readonly pluginDirs: readonly string[];
  /** Candidates of `auto` left out, each with why: "`docker compose`: no plugin in …". */
  readonly passedOver: readonly string[];
}

export async function pinComposeCommand(options: PinOptions): Promise<PinnedCommand> {
  const env = options.env ?? process.env;
  const untrusted = await Promise.all((options.untrusted ?? []).map((dir) => realOrResolved(dir)));
  const ignored: { path: string; reason: string }[] = [];
  const trusted = async (path: string): Promise<boolean> => {
    const real = await realOrResolved(path);
    const inside = untrusted.find((dir) => isInside(real, dir) || isInside(resolve(path), dir));
    if (inside === undefined) return true;
    ignored.push({
      path,
      reason: `it is inside ${inside}, which containers or stackd's own files can reach`,
    });
    return false;
  };
  /** `name` as an absolute path: as given when it has a slash, else the first on PATH. */
  const which = async (name: string): Promise<string | undefined> => {
    if (name.includes('/')) {
      const path = resolve(name);
      return (await isExecutable(path)) && (await trusted(path)) ? path : undefined;
    }
    for (const dir of (env['PATH'] ?? '').split(delimiter)) {
      if (dir === '' || !isAbsolute(dir)) continue; // `.` or a relative entry: never
      const path = join(dir, name);
      if ((await isExecutable(path)) && (await trusted(path))) return path;
    }
    return undefined;
  };
  const userPlugins =
    env['DOCKER_CONFIG'] !== undefined && env['DOCKER_CONFIG'] !== ''
      ? join(env['DOCKER_CONFIG'], 'cli-plugins')
      : env['HOME'] !== undefined && env['HOME'] !== ''
        ? join(env['HOME'], '.docker', 'cli-plugins')
        : undefined;
  const pluginDirs = [
    ...(userPlugins === undefined ? [] : [userPlugins]),
    ...(options.systemPluginDirs ?? SYSTEM_PLUGIN_DIRS),
  ];
  const findPlugin = async (): Promise<string | undefined> => {
    for (const dir of pluginDirs) {
      const path = join(dir, 'docker-compose');
      if ((await isExecutable(path)) && (await trusted(path))) return path;
    }
    return undefined;
  };

  if (options.dockerConfig !== undefined) await prepareDockerConfig(options.dockerConfig);
  const configured = options.command.trim() === 'auto' ? undefined : splitCommand(options.command);
  const wanted = configured === undefined ? AUTO_CANDIDATES : [configured];
  const candidates: PinnedCandidate[] = [];
  const passedOver: string[] = [];
  let problem: string | undefined;
  let linked = false;
  for (const argv of wanted) {
    const [file, ...args] = argv;
    if (file === undefined) continue;
    const path = await which(file);
    const where = file.includes('/') ? '' : ` on PATH (${env['PATH'] ?? ''})`;
    if (path === undefined) {
      if (configured !== undefined)
        problem = `compose command \`${file}\` cannot be run: not found${where}, not executable, or inside a directory stackd does not run from`;
      else passedOver.push(`\`${displayCommand(argv)}\`: no \`${file}\`${where}`);
      continue;
    }
    if (basename(path) === 'docker' && args.includes('compose')) {
      const plugin = await findPlugin();
      if (plugin === undefined) {
        const none = `no docker compose plugin (\`docker-compose\`) in ${pluginDirs.join(', ')}`;
        if (configured !== undefined) problem = `${none}; ${INSTALL_V2}`;
        else passedOver.push(`\`${displayCommand(argv)}\`: ${none}`);
        continue;
      }
      if (options.dockerConfig !== undefined && !linked) await linkPlugin(options.dockerConfig, plugin);
      linked = true;
    }
    candidates.push({ argv: [path, ...args], shown: displayCommand(argv) });
  }
  if (options.dockerConfig !== undefined && !linked) {
    await rm(join(options.dockerConfig, 'cli-plugins', 'docker-compose'), { force: true });
  }
  return {
    candidates,
    ignored,
    ...(problem === undefined ? {} : { problem }),
    env: options.dockerConfig === undefined ? {} : { DOCKER_CONFIG: options.dockerConfig },
    tried: wanted.map((argv) => displayCommand(argv)).join(' | '),
    pluginDirs,
    passedOver,
  };
}

/**
 * The directory exists (0700) with the empty environment file, and its `cli-plugins/` holds
 * nothing but stackd's link (replaced atomically later, so a compose process another stackd
 * command starts meanwhile never finds it missing).
 */
async function prepareDockerConfig(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const plugins = join(dir, 'cli-plugins');
  await mkdir(plugins, { recursive: true, mode: 0o700 });
  for (const name of await readdir(plugins)) {
    if (name !== 'docker-compose') await rm(join(plugins, name), { recursive: true, force: true });
  }
  await writeFile(emptyEnvFileOf(dir), '', { mode: 0o600 });
}

/** `cli-plugins/docker-compose` → the plugin (a link made beside it, renamed over). */
async function linkPlugin(dockerConfig: string, plugin: string): Promise<void> {
  const link = join(dockerConfig, 'cli-plugins', 'docker-compose');
  const temp = `${link}.${process.pid}.tmp`;
  await rm(temp, { force: true });
  await symlink(await realOrResolved(plugin), temp);
  await rename(temp, link);
}

async function realOrResolved(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    return resolve(path);
  }
}

/** `a` is `b` or inside it (both absolute, resolved). */
