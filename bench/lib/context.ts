/**
 * One benchmark run's world: a unique instance and stack prefix, a temp directory, a stacks
 * repository behind a real Git server on loopback, two counting Docker proxies (one for stackd's
 * own API calls, one for the compose processes it runs) and the logging compose wrapper.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { createTestRepo, type TestRepo } from '../../test/helpers/git-repo.js';
import { startGitServer, type GitServer } from '../../test/helpers/git-server.js';
import { createComposeWrapper, type ComposeWrapper } from './compose-wrapper.js';
import { startCountingProxy, type CountingProxy, engineSocket } from './docker-proxy.js';

/** `reconcile.minReady` of every daemon the bench starts: the default, so latency is what users get. */
export const BENCH_MIN_READY_MS = 5000;

export const BENCH_LABEL = 'io.stackd.bench';
const PROJECT_LABEL = 'com.docker.compose.project';

export interface BenchSettings {
  /** Written to the log of every stackd process: --cpu-prof into this directory when set. */
  readonly cpuProfDir: string | undefined;
  readonly pollMs: number;
}

/** A stack's compose file: one tiny busybox service, no network of its own. */
export function composeFile(image: 1 | 2): string {
  return [
    'services:',
    '  app:',
    `    image: stackd-test/busybox:${image}`,
    '    command: ["sleep", "86400"]',
    '    stop_grace_period: 1s',
    // Docker's default address pools hold ~30 bridge networks; hundreds of stacks need none.
    '    network_mode: none',
    '',
  ].join('\n');
}

export class Bench {
  readonly runId: string;
  /** Directory of this run's stacks in the repo; also the prefix of every compose project. */
  readonly prefix: string;
  readonly instance: string;
  readonly root: string;
  readonly dataDir: string;
  readonly git: GitServer;
  readonly repo: TestRepo;
  /** Proxies: `stackd` for stackd's own Docker client, `compose` for compose processes. */
  readonly stackdProxy: CountingProxy;
  readonly composeProxy: CountingProxy;
  readonly compose: ComposeWrapper;
  readonly settings: BenchSettings;
  readonly docker: Dockerode;
  /** Tier boundaries: stack i lives in tier k when boundaries[k-1] <= i < boundaries[k]. */
  readonly boundaries: readonly number[];
  #deployed = 0;
  readonly #removed = { containers: 0, networks: 0 };

  private constructor(fields: {
    runId: string;
    root: string;
    git: GitServer;
    repo: TestRepo;
    stackdProxy: CountingProxy;
    composeProxy: CountingProxy;
    compose: ComposeWrapper;
    settings: BenchSettings;
    boundaries: readonly number[];
  }) {
    this.runId = fields.runId;
    this.prefix = `bench${fields.runId}`;
    this.instance = `bench-${fields.runId}`;
    this.root = fields.root;
    this.dataDir = join(fields.root, 'data');
    this.git = fields.git;
    this.repo = fields.repo;
    this.stackdProxy = fields.stackdProxy;
    this.composeProxy = fields.composeProxy;
    this.compose = fields.compose;
    this.settings = fields.settings;
    this.boundaries = fields.boundaries;
    this.docker = new Dockerode({ socketPath: engineSocket() });
  }

  static async create(settings: BenchSettings, boundaries: readonly number[]): Promise<Bench> {
    const runId = randomBytes(3).toString('hex');
    const root = await mkdtemp(join(tmpdir(), `stackd-bench-${runId}-`));
    const repo = await createTestRepo(root, 'stacks');
    const git = await startGitServer({ root });
    const stackdProxy = await startCountingProxy(join(root, 'docker-stackd.sock'));
    const composeProxy = await startCountingProxy(join(root, 'docker-compose.sock'));
    const compose = await createComposeWrapper(root, composeProxy.dockerHost);
    return new Bench({
      runId,
      root,
      git,
      repo,
      stackdProxy,
      composeProxy,
      compose,
      settings,
      boundaries: [...new Set(boundaries)].sort((a, b) => a - b),
    });
  }

  tierOf(i: number): number {
    const k = this.boundaries.findIndex((b) => i < b);
    return k === -1 ? this.boundaries.length : k;
  }

  stackId(i: number): string {
    return `${this.prefix}/t${this.tierOf(i)}/s${String(i).padStart(3, '0')}`;
  }

  project(i: number): string {
    return this.stackId(i)
      .toLowerCase()
      .replace(/[^a-z0-9_-]/g, '_');
  }

  /** Scope globs holding exactly the first `n` stacks (`n` must be a boundary). */
  scope(n: number): string {
    const k = this.boundaries.indexOf(n);
    if (k === -1) throw new Error(`${n} is not a tier boundary (${this.boundaries.join(', ')})`);
    return Array.from({ length: k + 1 }, (_, t) => `${this.prefix}/t${t}/**`).join(',');
  }

  /** The environment of every stackd process: nothing inherited from the caller's STACKD_*. */
  env(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
    const base: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('STACKD_')) base[k] = v;
    return {
      ...base,
      DOCKER_HOST: this.stackdProxy.dockerHost,
      STACKD_SOURCE_URL: this.git.url('stacks'),
      STACKD_INSTANCE: this.instance,
      STACKD_DATA_DIR: this.dataDir,
      STACKD_LOG_LEVEL: 'info',
      STACKD_LOG_FORMAT: 'json',
      STACKD_LISTEN: '127.0.0.1:0',
      STACKD_SOURCE_POLL_INTERVAL: '0',
      STACKD_RECONCILE_RESYNC_INTERVAL: '0',
      STACKD_RECONCILE_TIMEOUT: '60s',
      STACKD_RECONCILE_MIN_READY: `${BENCH_MIN_READY_MS}ms`,
      STACKD_COMPOSE_COMMAND: this.compose.command,
      ...extra,
    };
  }

  get deployed(): number {
    return this.#deployed;
  }

  set deployed(n: number) {
    this.#deployed = n;
  }

  /** Commit the compose files of stacks [from, to) (image 1). */
  async addStacks(from: number, to: number): Promise<string> {
    const files: Record<string, string> = {};
    for (let i = from; i < to; i++) files[`${this.stackId(i)}/compose.yaml`] = composeFile(1);
    return this.repo.commit(files, `add stacks ${from}..${to - 1}`);
  }

  /** A commit touching only README.md at the repo root (outside every stack). */
  touchReadme(note: string): Promise<string> {
    return this.repo.commit({ 'README.md': `stackd bench ${this.runId}: ${note} ${Date.now()}\n` }, note);
  }

  /** Remove this run's containers and networks (the deployed stacks, the raw project). */
  async removeDeployed(): Promise<{ containers: number; networks: number }> {
    const containers = [
      ...(await this.docker.listContainers({
        all: true,
        filters: { label: [`io.stackd.managed-by=${this.instance}`] },
      })),
      ...(await this.docker.listContainers({
        all: true,
        filters: { label: [`${BENCH_LABEL}=${this.instance}`] },
      })),
      ...(await this.docker.listContainers({ all: true, filters: { label: [PROJECT_LABEL] } })).filter((c) =>
        (c.Labels[PROJECT_LABEL] ?? '').startsWith(this.prefix),
      ),
    ];
    const ids = [...new Set(containers.map((c) => c.Id))];
    await inBatches(ids, 8, (id) =>
      this.docker.getContainer(id).remove({ force: true, v: true }).catch(ignoreGone),
    );
    const networks = (await this.docker.listNetworks({ filters: { label: [PROJECT_LABEL] } })).filter((n) =>
      (n.Labels?.[PROJECT_LABEL] ?? '').startsWith(this.prefix),
    );
    await inBatches(networks, 4, (n) => this.docker.getNetwork(n.Id).remove().catch(ignoreGone));
    this.#deployed = 0;
    this.#removed.containers += ids.length;
    this.#removed.networks += networks.length;
    return { containers: ids.length, networks: networks.length };
  }

  /** Remove every container and network this run created; then the proxies, server and files. */
  async cleanup(keepFiles: boolean): Promise<{ containers: number; networks: number }> {
    await this.removeDeployed();
    await this.stackdProxy.close();
    await this.composeProxy.close();
    await this.git.close();
    if (!keepFiles) await rm(this.root, { recursive: true, force: true });
    return { ...this.#removed };
  }
}

async function inBatches<T>(
  items: readonly T[],
  size: number,
  run: (item: T) => Promise<unknown>,
): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(run));
}

function ignoreGone(error: unknown): void {
  const status = (error as { statusCode?: number }).statusCode;
  if (status !== 404 && status !== 409) throw error;
}
