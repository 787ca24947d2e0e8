/**
 * Docker helpers for integration tests: unique project names per test run, compose files in temp
 * directories, and cleanup of exactly the containers and networks a test created (by the compose
 * project label), never anything else on the engine.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import Dockerode from 'dockerode';
import { execa } from 'execa';

export const IMAGE_V1 = 'stackd-test/busybox:1';
export const IMAGE_V2 = 'stackd-test/busybox:2';
const PROJECT_LABEL = 'com.docker.compose.project';

/** One id per test file run; every project name made here contains it. */
export const RUN_ID = `${process.pid.toString(36)}${randomBytes(3).toString('hex')}`;

/** `stackdt_<name>_<run id>_<n>`: unique per call, valid as a compose project name. */
let counter = 0;
export function uniqueProject(name: string): string {
  counter += 1;
  return `stackdt_${name.toLowerCase().replace(/[^a-z0-9_-]/g, '_')}_${RUN_ID}_${counter}`;
}

/** Temporary directories: one implementation for every helper. */
export { makeTempDir, removeDir } from './git-fixtures.js';

/** Write `compose.yaml` (or `name`) into `dir` and return its path. */
export async function writeCompose(dir: string, yaml: string, name = 'compose.yaml'): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, yaml);
  return path;
}

/** Run the docker CLI; resolves with stdout, throws on failure. */
export async function docker(...args: string[]): Promise<string> {
  const result = await execa('docker', args);
  return result.stdout;
}

export const engine = new Dockerode();

export async function containersOf(
  project: string,
  client: Dockerode = engine,
): Promise<Dockerode.ContainerInfo[]> {
  return client.listContainers({ all: true, filters: { label: [`${PROJECT_LABEL}=${project}`] } });
}

/**
 * Force-remove every container, then every network and volume, labelled with one of `projects`.
 * Only compose-project labels of projects this run created are ever used as filters.
 */
export async function cleanupProjects(projects: Iterable<string>, client: Dockerode = engine): Promise<void> {
  for (const project of projects) {
    const filters = { label: [`${PROJECT_LABEL}=${project}`] };
    const containers = await client.listContainers({ all: true, filters });
    await Promise.all(
      containers.map((c) => client.getContainer(c.Id).remove({ force: true, v: true }).catch(ignoreNotFound)),
    );
    const networks = await client.listNetworks({ filters });
    await Promise.all(networks.map((n) => client.getNetwork(n.Id).remove().catch(ignoreNotFound)));
    const volumes = await client.listVolumes({ filters });
    await Promise.all(
      ((volumes.Volumes as Dockerode.VolumeInspectInfo[] | null) ?? []).map((v) =>
        client.getVolume(v.Name).remove().catch(ignoreNotFound),
      ),
    );
  }
}

function ignoreNotFound(error: unknown): void {
  const status = (error as { statusCode?: number }).statusCode;
  if (status !== 404 && status !== 409) throw error;
}

/** Poll `check` until it returns a value other than `undefined`/`false`, or fail after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 20_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: Error | undefined;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error as Error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last === undefined ? '' : `: ${last.message}`}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A process is alive when it exists and is not a zombie (zombies wait for a reaper, not for us). */
export async function isAlive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).charAt(0);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/**
 * A unix-socket proxy to the real engine, so a test can make "the engine" vanish and come back
 * without touching the real one: `pause()` closes the listener and cuts every connection,
 * `resume()` listens on the same path again.
 */
export interface SocketProxy {
  readonly path: string;
  pause(): Promise<void>;
  resume(): Promise<void>;
  close(): Promise<void>;
}

export async function startSocketProxy(path: string, target = '/var/run/docker.sock'): Promise<SocketProxy> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const listen = async (): Promise<void> => {
    await rm(path, { force: true });
    const s = createServer((client) => {
      const upstream = createConnection(target);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('close', () => {
          sockets.delete(socket);
        });
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(path, resolve);
    });
    server = s;
  };
  const pause = async (): Promise<void> => {
    const s = server;
    server = undefined;
    for (const socket of sockets) socket.destroy();
    if (s !== undefined)
      await new Promise<void>((resolve) => {
        s.close(() => {
          resolve();
        });
      });
  };
  await listen();
  return { path, pause, resume: listen, close: pause };
}
