/** Driving the built CLI: `stackd run` as a background process with its API, and `sync --once`. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { StackStatus, StacksResponse } from '../../internal/status/index.js';
import { processMemory } from './util.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url).href.replace(/\/dist\/$/, '/'));
export const CLI = `${ROOT}dist/cmd/stackd/main.js`;

export interface LogLine {
  /** Date.now() when the line was read. */
  readonly at: number;
  readonly line: Readonly<Record<string, unknown>>;
}

/** Every process started here, so that an interrupted run can still stop them all. */
export const children = new Set<ChildProcess>();

export function nodeArgs(cpuProfDir: string | undefined): string[] {
  return cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`];
}

export class Daemon {
  readonly proc: ChildProcess;
  /** performance.now() just before spawning. */
  readonly spawnedAt: number;
  readonly logs: LogLine[] = [];
  /** performance.now() when the `daemon.start` line (listening) was read. */
  listenAt: number | undefined;
  #url: string | undefined;
  readonly exited: Promise<number | null>;

  constructor(env: NodeJS.ProcessEnv, cpuProfDir?: string) {
    this.spawnedAt = performance.now();
    this.proc = spawn('node', [...nodeArgs(cpuProfDir), CLI, 'run'], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.add(this.proc);
    let buffer = '';
    this.proc.stderr?.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const text = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        let line: Record<string, unknown>;
        try {
          line = JSON.parse(text) as Record<string, unknown>;
        } catch {
          line = { raw: text };
        }
        this.logs.push({ at: Date.now(), line });
        if (line['event'] === 'daemon.start' && typeof line['listen'] === 'string') {
          this.#url = line['listen'];
          this.listenAt = performance.now();
        }
      }
    });
    this.exited = new Promise((resolve) => {
      this.proc.once('exit', (code) => {
        children.delete(this.proc);
        resolve(code);
      });
    });
  }

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  get url(): string | undefined {
    return this.#url;
  }

  /** The base URL once listening; throws if the process died first. */
  async waitListening(timeoutMs = 30_000): Promise<string> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      if (this.#url !== undefined) return this.#url;
      if (this.proc.exitCode !== null) {
        throw new Error(`stackd run exited ${this.proc.exitCode}: ${this.tail()}`);
      }
      if (performance.now() > deadline) throw new Error(`stackd run did not listen: ${this.tail()}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  tail(lines = 10): string {
    return this.logs
      .slice(-lines)
      .map((l) => JSON.stringify(l.line))
      .join('\n');
  }

  async get(path: string): Promise<Response> {
    const url = this.#url;
    if (url === undefined) throw new Error('not listening yet');
    return fetch(`${url}${path}`, { signal: AbortSignal.timeout(30_000) });
  }

  async post(path: string, body?: unknown): Promise<Response> {
    const url = this.#url;
    if (url === undefined) throw new Error('not listening yet');
    return fetch(`${url}${path}`, {
      method: 'POST',
      signal: AbortSignal.timeout(30_000),
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }

  async stacks(): Promise<StacksResponse> {
    const r = await this.get('/api/v1/stacks');
    if (r.status !== 200) throw new Error(`GET /api/v1/stacks: ${r.status}`);
    return (await r.json()) as StacksResponse;
  }

  async stack(id: string): Promise<StackStatus | undefined> {
    const r = await this.get(`/api/v1/stacks/${encodeURIComponent(id)}`);
    return r.status === 200 ? ((await r.json()) as StackStatus) : undefined;
  }

  /** Sum of a metric's samples (labels ignored). */
  async metric(name: string): Promise<number> {
    const text = await (await this.get('/metrics')).text();
    let sum = 0;
    for (const line of text.split('\n')) {
      const m = /^([a-z_:]+)(?:\{.*\})? (\S+)$/.exec(line);
      if (m?.[1] === name) sum += Number(m[2]);
    }
    return sum;
  }

  memory(): Promise<{ rssKb: number; hwmKb: number }> {
    return processMemory(this.pid);
  }

  /** SIGTERM, wait for the exit (SIGKILL after `timeoutMs`): exit code and milliseconds taken. */
  async stop(timeoutMs = 60_000): Promise<{ code: number | null; ms: number }> {
    const started = performance.now();
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) {
      return { code: this.proc.exitCode, ms: 0 };
    }
    this.proc.kill('SIGTERM');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return { code, ms: performance.now() - started };
  }
}

export interface OnceResult {
  readonly exitCode: number | null;
  /** Process start to exit, ms. */
  readonly ms: number;
  readonly response: StacksResponse | undefined;
  readonly stderr: string;
}

/** `stackd sync --once --output json`, timed from spawn to exit. */
export function syncOnce(env: NodeJS.ProcessEnv, cpuProfDir?: string): Promise<OnceResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const proc = spawn('node', [...nodeArgs(cpuProfDir), CLI, 'sync', '--once', '--output', 'json'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(proc);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    proc.stdout.on('data', (c: Buffer) => out.push(c));
    proc.stderr.on('data', (c: Buffer) => err.push(c));
    proc.once('error', reject);
    proc.once('close', (code) => {
      const ms = performance.now() - started;
      children.delete(proc);
      const stdout = Buffer.concat(out).toString();
      let response: StacksResponse | undefined;
      try {
        response = JSON.parse(stdout) as StacksResponse;
      } catch {
        response = undefined;
      }
      resolve({ exitCode: code, ms, response, stderr: Buffer.concat(err).toString() });
    });
  });
}
