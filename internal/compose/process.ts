/**
 * Running one compose process in its own process group, so that a timeout or an abort kills the
 * compose v2 plugin and everything it spawned, not just the `docker` front end.
 */
import { childEnvironment } from './environment.js';
import { execa, type ExecaError } from 'execa';
import type { ChildRegistry } from './children.js';

export interface ProcessOptions {
  readonly cwd?: string;
  /** Added to `process.env`. */
  readonly env?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
  /** Record the process while it runs (reaped by the next stackd if this one dies). */
  readonly record?: { readonly registry: ChildRegistry; readonly project: string; readonly command: string };
  /** Also keep stdout and stderr interleaved as they came (`all` of the result or error). */
  readonly all?: boolean;
}

export type ProcessResult =
  | {
      readonly ok: true;
      readonly stdout: string;
      readonly stderr: string;
      /** stdout and stderr interleaved, with `all`. */
      readonly all?: string;
      readonly durationMs: number;
    }
  | {
      readonly ok: false;
      readonly error: ExecaError;
      readonly timedOut: boolean;
      readonly aborted: boolean;
      readonly durationMs: number;
    };

/** SIGKILL the whole process group led by `pid`; a group that is already gone is fine. */
export function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

export async function runProcess(argv: readonly string[], options: ProcessOptions): Promise<ProcessResult> {
  const [file, ...args] = argv;
  if (file === undefined) throw new Error('Expected a command to run, got an empty argv');
  const started = performance.now();
  const subprocess = execa(file, args, {
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    env: { ...childEnvironment(), ...options.env },
    extendEnv: false,
    detached: true,
    stdin: 'ignore',
    reject: true,
    ...(options.all === true ? { all: true } : {}),
  });
  let timedOut = false;
  let aborted = false;
  const kill = (): void => {
    if (subprocess.pid !== undefined) killGroup(subprocess.pid);
  };
  const timer =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          kill();
        }, options.timeoutMs);
  const onAbort = (): void => {
    aborted = true;
    kill();
  };
  if (options.signal?.aborted === true) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  const { record } = options;
  const pid = subprocess.pid;
  const recorded =
    record === undefined || pid === undefined
      ? undefined
      : record.registry.add(pid, record.project, record.command);
  try {
    const result = await subprocess;
    return {
      ok: true,
      stdout: result.stdout,
      stderr: result.stderr,
      ...(typeof result.all === 'string' ? { all: result.all } : {}),
      durationMs: performance.now() - started,
    };
  } catch (error) {
    return {
      ok: false,
      error: error as ExecaError,
      timedOut,
      aborted,
      durationMs: performance.now() - started,
    };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    if (recorded !== undefined && pid !== undefined) {
      await recorded;
      await record?.registry.remove(pid);
    }
  }
}
