/**
 * A real private registry on loopback: Debian's `docker-registry` (distribution 2.8) serving
 * `localhost:PORT` over plain HTTP (the engine trusts 127.0.0.0/8 without TLS) with htpasswd
 * basic auth and a temporary storage directory. `push` tags a local image into it through a
 * temporary DOCKER_CONFIG that logged in, then removes the local tag, so that compose must pull.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { makeTempDir, removeDir, waitFor } from './docker.js';
import { freePort } from './ports.js';

export const REGISTRY_BINARY = '/usr/bin/docker-registry';

export interface TestRegistry {
  /** `localhost:PORT`: how image references name it. */
  readonly host: string;
  readonly username: string;
  readonly password: string;
  /** A DOCKER_CONFIG directory logged in to it (`config.json` as `docker login` wrote it). */
  readonly dockerConfig: string;
  /** Pushes local `image` as `host/repository`, removes the local tag; returns the reference. */
  push(image: string, repository: string): Promise<string>;
  /** What the registry printed (for failure messages). */
  log(): string;
  /** Stops the registry, removes the references pushed and pulled, and every file. */
  close(): Promise<void>;
}

export async function startRegistry(
  options: {
    readonly username?: string;
    readonly password?: string;
    /** Log every request (level info, access log on) into `log()`; off by default. */
    readonly accessLog?: boolean;
    /**
     * Send the registry's push notifications (docker distribution's `notifications.endpoints`) to
     * `url` with these headers; blob events are left out, as an operator would configure it.
     */
    readonly notifications?: { readonly url: string; readonly headers?: Readonly<Record<string, string>> };
  } = {},
): Promise<TestRegistry> {
  const username = options.username ?? 'deploy';
  const password = options.password ?? `registry-pw-${Math.random().toString(36).slice(2)}`;
  const root = await makeTempDir('stackd-registry-');
  const dockerConfig = join(root, 'docker');
  // bcrypt, as the registry requires; the password is the test's own, not stackd's.
  const htpasswd = await execa('htpasswd', ['-Bbn', username, password]);
  await writeFile(join(root, 'htpasswd'), `${htpasswd.stdout.trim()}\n`);
  const port = await freePort();
  const host = `localhost:${port}`;
  await writeFile(
    join(root, 'config.yml'),
    [
      'version: 0.1',
      'log:',
      `  level: ${options.accessLog === true ? 'info' : 'warn'}`,
      '  accesslog:',
      `    disabled: ${options.accessLog === true ? 'false' : 'true'}`,
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${join(root, 'storage')}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      `  secret: ${Math.random().toString(36).slice(2)}`,
      'auth:',
      '  htpasswd:',
      '    realm: stackd-test',
      `    path: ${join(root, 'htpasswd')}`,
      ...(options.notifications === undefined
        ? []
        : [
            'notifications:',
            '  endpoints:',
            '    - name: stackd',
            `      url: ${options.notifications.url}`,
            '      timeout: 2s',
            '      threshold: 1',
            '      backoff: 1s',
            '      ignoredmediatypes:',
            '        - application/octet-stream',
            ...(options.notifications.headers === undefined
              ? []
              : [
                  '      headers:',
                  ...Object.entries(options.notifications.headers).map(
                    ([name, value]) => `        ${name}: [${JSON.stringify(value)}]`,
                  ),
                ]),
          ]),
      '',
    ].join('\n'),
  );
  let output = '';
  const child: ChildProcess = spawn(REGISTRY_BINARY, ['serve', join(root, 'config.yml')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let running = true;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      running = false;
      resolve();
    });
  });
  const pushed = new Set<string>();
  const close = async (): Promise<void> => {
    child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 5000)))]);
    clearTimeout(timer);
    if (running) child.kill('SIGKILL');
    for (const ref of pushed) await execa('docker', ['rmi', ref], { reject: false });
    await removeDir(root);
  };
  try {
    // Up when /v2/ asks for credentials.
    await waitFor(
      `docker-registry on ${host}`,
      async () => {
        if (child.exitCode !== null) throw new Error(`docker-registry exited: ${output}`);
        const response = await fetch(`http://127.0.0.1:${port}/v2/`).catch(() => undefined);
        return response?.status === 401;
      },
      15_000,
      50,
    );
    await execa('docker', ['login', '--username', username, '--password-stdin', host], {
      input: password,
      env: { DOCKER_CONFIG: dockerConfig },
    });
  } catch (error) {
    await close();
    throw error;
  }
  return {
    host,
    username,
    password,
    dockerConfig,
    async push(image, repository) {
      const ref = `${host}/${repository}`;
      pushed.add(ref);
      await execa('docker', ['tag', image, ref]);
      await execa('docker', ['push', ref], { env: { DOCKER_CONFIG: dockerConfig } });
      await execa('docker', ['rmi', ref]);
      return ref;
    },
    log: () => output,
    close,
  };
}

/** The `config.json` that `docker login` wrote for `registry` (what an operator would copy). */
export function loginFile(registry: TestRegistry): Promise<string> {
  return readFile(join(registry.dockerConfig, 'config.json'), 'utf8');
}
