/**
 * Where everything stackd keeps lives under `dataDir`, in one place. Paths a container may reach
 * (the stacks' work trees, which stacks bind-mount) are kept apart from the ones that steer stackd
 * itself (state, Git objects, manifests, the compose client's configuration).
 */
import { join } from 'node:path';

export interface Layout {
  readonly dataDir: string;
  /** The durable state (`state.json`). */
  readonly stateFile: string;
  /** Held by `stackd run` and `sync --once` (`stackd.lock`). */
  readonly lockFile: string;
  /** The fetched Git objects of an http(s) source (`repo/`). */
  readonly repo: string;
  /** Which URL, branch and commit `repo/` holds (`source.json`). */
  readonly sourceState: string;
  /** What the last snapshot found per tree id, so a restart need not read it again (`snapshot.json`). */
  readonly snapshotCache: string;
  /** What materialize wrote where (`manifests/`). */
  readonly manifests: string;
  /** Every stack's work tree lives below it (`work/`). */
  readonly workRoot: string;
  /** The generated label overrides (`overrides/`). */
  readonly overrides: string;
  /** `DOCKER_CONFIG` of every compose process (`docker/`): its plugins and registry logins. */
  readonly dockerConfig: string;
  /** The compose processes running now, by pid (`children/`), reaped after a crash. */
  readonly children: string;
  /** The working directory of a stack: `work/<id>` (`/`-separated ids become directories). */
  workDir(id: string): string;
  /** The label override of a project: `overrides/<project>.yaml`. */
  override(project: string): string;
  /**
   * The `--env-file` of a project: its tracked `.env`, copied from Git at each apply
   * (`overrides/<project>.env`), out of reach of the containers that can write the work tree.
   */
  envFile(project: string): string;
  /** The environment file compose reads when a stack tracks no `.env`: an empty file. */
  readonly emptyEnvFile: string;
}

/** A stack's work tree below `workRoot`: `work/<id>`, `/`-separated ids becoming directories. */
export function workDirOf(workRoot: string, id: string): string {
  return join(workRoot, ...id.split('/'));
}

/** The empty environment file of a compose client configuration directory: `<dockerConfig>/empty.env`. */
export function emptyEnvFileOf(dockerConfig: string): string {
  return join(dockerConfig, 'empty.env');
}

export function layoutOf(dataDir: string): Layout {
  const workRoot = join(dataDir, 'work');
  const overrides = join(dataDir, 'overrides');
  const dockerConfig = join(dataDir, 'docker');
  return {
    dataDir,
    stateFile: join(dataDir, 'state.json'),
    lockFile: join(dataDir, 'stackd.lock'),
    repo: join(dataDir, 'repo'),
    sourceState: join(dataDir, 'source.json'),
    snapshotCache: join(dataDir, 'snapshot.json'),
    manifests: join(dataDir, 'manifests'),
    workRoot,
    overrides,
    dockerConfig,
    children: join(dataDir, 'children'),
    workDir: (id) => workDirOf(workRoot, id),
    override: (project) => join(overrides, `${project}.yaml`),
    envFile: (project) => join(overrides, `${project}.env`),
    emptyEnvFile: emptyEnvFileOf(dockerConfig),
  };
}
