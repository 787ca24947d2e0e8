/**
 * End-to-end harness: a stacks repository served by a real Git server on loopback, a unique
 * stackd instance and data directory, the BUILT CLI (`dist/`), and cleanup of exactly the
 * containers and networks this harness's stacks made.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Dockerode from 'dockerode';
import { execa } from 'execa';
import type { StacksResponse, StackStatus } from '../../internal/status/index.js';
import { RUN_ID, cleanupProjects, engine, makeTempDir, removeDir } from './docker.js';
import type { FileTree } from './git-fixtures.js';
import { createTestRepo, type TestRepo } from './git-repo.js';
import { startGitServer, type GitServer, type GitServerOptions } from './git-server.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CLI = join(ROOT, 'dist/cmd/stackd/main.js');

export interface CliResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

let harnesses = 0;

export class Harness {
  readonly root: string;
  readonly repo: TestRepo;
  readonly server: GitServer;
  readonly instance: string;
  readonly dataDir: string;
  /** Directory of this harness's stacks in the repo: keeps project names unique per run. */
  readonly prefix: string;
  /** Environment every CLI call gets (tests add to it). */
  env: Record<string, string>;
  readonly #projects = new Set<string>();

  private constructor(root: string, repo: TestRepo, server: GitServer, name: string) {
    this.root = root;
    this.repo = repo;
    this.server = server;
    harnesses++;
    this.prefix = `s${RUN_ID}${harnesses}${name}`.toLowerCase().replace(/[^a-z0-9]/g, '');
    this.instance = `test-${this.prefix}`;
    this.dataDir = join(root, 'data');
    this.env = {
      STACKD_SOURCE_URL: server.url('stacks'),
      STACKD_INSTANCE: this.instance,
      STACKD_DATA_DIR: this.dataDir,
      STACKD_LOG_LEVEL: 'warn',
      STACKD_SCOPE_INCLUDE: `${this.prefix}/**`,
      STACKD_RECONCILE_TIMEOUT: '60s',
      // Most tests are about what is applied, not how long it must stay up: two looks, as in 0.1.
      // test/e2e/health.test.ts runs with the real wait.
      STACKD_RECONCILE_MIN_READY: '0',
    };
  }

  /** `auth`: the Git server asks for these basic-auth credentials (see git-server.ts). */
  static async create(name: string, options: Pick<GitServerOptions, 'auth'> = {}): Promise<Harness> {
    const root = await makeTempDir(`stackd-e2e-${name}-`);
    const repo = await createTestRepo(root, 'stacks');
    const server = await startGitServer({ root, ...options });
    return new Harness(root, repo, server, name);
  }

  /** Stack id of a short name: `web` → `<prefix>/web`. */
  id(name: string): string {
    return `${this.prefix}/${name}`;
  }

  /** Compose project of a short name (derived from the id, as stackd does). */
  project(name: string): string {
    const project = `${this.prefix}_${name}`.toLowerCase().replace(/[^a-z0-9_-]/g, '_');
    this.#projects.add(project);
    return project;
  }

  /** Commit files given by stack-relative paths: `{ 'web/compose.yaml': '…' }`. */
  commit(files: FileTree, message?: string): Promise<string> {
    const tree: Record<string, FileTree[string]> = {};
    for (const [path, spec] of Object.entries(files)) {
      tree[`${this.prefix}/${path}`] = spec;
      this.project(path.split('/')[0] ?? path);
    }
    return this.repo.commit(tree, message);
  }

  cli(args: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<CliResult> {
    return execa('node', [CLI, ...args], {
      env: { ...this.env, ...env },
      reject: false,
      timeout: 240_000,
    }).then((r) => ({ exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr }));
  }

  /**
   * Start `stackd run` in the background. `forceKillAfterDelay: false`: execa would otherwise
   * follow a SIGTERM with a SIGKILL after 5 s — shorter than a reconcile stackd lets finish.
   */
  daemon(args: readonly string[] = [], env: Readonly<Record<string, string>> = {}) {
    return execa('node', [CLI, 'run', ...args], {
      env: { ...this.env, ...env },
      reject: false,
      forceKillAfterDelay: false,
    });
  }

  /** `stackd sync --once --output json`: the exit code and the parsed stacks. */
  async sync(
    env: Readonly<Record<string, string>> = {},
  ): Promise<{ exitCode: number; response: StacksResponse; stderr: string }> {
    const r = await this.cli(['sync', '--once', '--output', 'json'], env);
    let response: StacksResponse;
    try {
      response = JSON.parse(r.stdout) as StacksResponse;
    } catch {
      throw new Error(`sync --once printed no JSON (exit ${r.exitCode}):\n${r.stdout}\n${r.stderr}`);
    }
    return { exitCode: r.exitCode, response, stderr: r.stderr };
  }

  /** Containers of one short-named stack, by service. */
  async containers(name: string): Promise<Dockerode.ContainerInfo[]> {
    return engine.listContainers({
      all: true,
      filters: { label: [`com.docker.compose.project=${this.project(name)}`] },
    });
  }

  /** Map service → container id. */
  async ids(name: string): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const c of await this.containers(name)) out[c.Labels['com.docker.compose.service'] ?? '?'] = c.Id;
    return out;
  }

  async cleanup(): Promise<void> {
    const mine = await engine.listContainers({
      all: true,
      filters: { label: [`io.stackd.managed-by=${this.instance}`] },
    });
    for (const c of mine) {
      const p = c.Labels['com.docker.compose.project'];
      if (p !== undefined) this.#projects.add(p);
    }
    // Retry once: a network can still have an endpoint for a moment after its container went.
    await cleanupProjects(this.#projects).catch(async () => {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      await cleanupProjects(this.#projects);
    });
    await this.server.close();
    await removeDir(this.root);
  }
}

export function stackOf(response: StacksResponse, id: string): StackStatus {
  const stack = response.stacks.find((s) => s.id === id);
  if (stack === undefined)
    throw new Error(`no stack ${id} in ${JSON.stringify(response.stacks.map((s) => s.id))}`);
  return stack;
}

/** A compose file of busybox services: `{ web: { image: 1 } }`. */
export function composeFile(services: Record<string, { image?: 1 | 2; extra?: string }>): string {
  const lines = ['services:'];
  for (const [name, s] of Object.entries(services)) {
    lines.push(
      `  ${name}:`,
      `    image: stackd-test/busybox:${s.image ?? 1}`,
      '    command: ["sleep", "3600"]',
    );
    lines.push('    stop_grace_period: 1s');
    if (s.extra !== undefined) lines.push(...s.extra.split('\n').map((l) => `    ${l}`));
  }
  return `${lines.join('\n')}\n`;
}
