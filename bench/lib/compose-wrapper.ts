/**
 * A logging compose command for STACKD_COMPOSE_COMMAND: a small shell script that appends one
 * line per invocation (start and end time, exit code, arguments) to a log file and runs
 * `docker compose "$@"` with DOCKER_HOST pointed at a counting proxy of its own, so that the
 * Docker API calls compose makes are counted apart from the ones stackd makes itself.
 */
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface ComposeCall {
  readonly pid: string;
  /** Epoch ms. */
  readonly start: number;
  /** Epoch ms; undefined while running (or killed). */
  readonly end: number | undefined;
  readonly exitCode: number | undefined;
  readonly args: readonly string[];
  /** The compose subcommand: `up`, `config`, `down`, `version`, … */
  readonly verb: string;
}

export interface ComposeWrapper {
  /** The script, for STACKD_COMPOSE_COMMAND. */
  readonly command: string;
  readonly logPath: string;
  /** Every invocation logged so far. */
  calls(): Promise<ComposeCall[]>;
}

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export async function createComposeWrapper(dir: string, dockerHost: string): Promise<ComposeWrapper> {
  const command = join(dir, 'compose-wrapper.sh');
  const logPath = join(dir, 'compose-calls.log');
  const script = `#!/bin/sh
# stackd bench: log this compose invocation, run it against the counting proxy, log its end.
log=${quote(logPath)}
printf 'start %s %s %s\\n' "$(date +%s%N)" "$$" "$*" >>"$log"
DOCKER_HOST=${quote(dockerHost)} docker compose "$@"
rc=$?
printf 'end %s %s %s\\n' "$(date +%s%N)" "$$" "$rc" >>"$log"
exit $rc
`;
  await writeFile(command, script);
  await chmod(command, 0o755);
  await writeFile(logPath, '');
  return {
    command,
    logPath,
    calls: async () => parseLog(await readFile(logPath, 'utf8')),
  };
}

const FLAGS_WITH_VALUE = new Set([
  '-p',
  '--project-name',
  '--project-directory',
  '-f',
  '--file',
  '--env-file',
]);

function verbOf(args: readonly string[]): string {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (FLAGS_WITH_VALUE.has(a)) {
      i++;
      continue;
    }
    if (!a.startsWith('-')) return a;
  }
  return '?';
}

export function parseLog(text: string): ComposeCall[] {
  const calls: { pid: string; start: number; end?: number; exitCode?: number; args: string[] }[] = [];
  /** pid → index in `calls` of its invocation still running (pids may be reused later). */
  const running = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [kind, ns, pid, ...rest] = line.split(' ');
    if (ns === undefined || pid === undefined) continue;
    const ms = Number(ns) / 1e6;
    if (kind === 'start') {
      running.set(pid, calls.length);
      calls.push({ pid, start: ms, args: rest });
    } else if (kind === 'end') {
      const index = running.get(pid);
      const call = index === undefined ? undefined : calls[index];
      if (call === undefined) continue;
      call.end = ms;
      call.exitCode = Number(rest[0]);
      running.delete(pid);
    }
  }
  return calls.map((c) => ({
    pid: c.pid,
    start: c.start,
    end: c.end,
    exitCode: c.exitCode,
    args: c.args,
    verb: verbOf(c.args),
  }));
}

/** `{ up: 2, config: 2 }`. */
export function byVerb(calls: readonly ComposeCall[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of calls) out[c.verb] = (out[c.verb] ?? 0) + 1;
  return out;
}
