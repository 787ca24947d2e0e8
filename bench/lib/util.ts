/** Small helpers: sleeping, polling, statistics, formatting. */

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Call `check` every `intervalMs` (measured from the start of one call to the start of the next)
 * until it returns something other than undefined; the time is taken when that call finished.
 */
export async function pollUntil<T>(
  what: string,
  check: () => Promise<T | undefined>,
  options: { readonly intervalMs: number; readonly timeoutMs: number },
): Promise<{ value: T; at: number; polls: number }> {
  const deadline = performance.now() + options.timeoutMs;
  let polls = 0;
  let lastError = '';
  for (;;) {
    const started = performance.now();
    polls++;
    try {
      const value = await check();
      if (value !== undefined) return { value, at: performance.now(), polls };
    } catch (error) {
      lastError = (error as Error).message;
    }
    if (performance.now() > deadline) {
      throw new Error(
        `timed out after ${options.timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${lastError})` : ''}`,
      );
    }
    await sleep(Math.max(0, options.intervalMs - (performance.now() - started)));
  }
}

export interface Summary {
  readonly n: number;
  readonly median: number;
  readonly p90: number;
  readonly min: number;
  readonly max: number;
  readonly mean: number;
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? Number.NaN;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const median =
    n === 0
      ? Number.NaN
      : n % 2 === 1
        ? (sorted[(n - 1) / 2] ?? Number.NaN)
        : ((sorted[n / 2 - 1] ?? 0) + (sorted[n / 2] ?? 0)) / 2;
  return {
    n,
    median: round(median),
    p90: round(percentile(sorted, 90)),
    min: round(sorted[0] ?? Number.NaN),
    max: round(sorted[n - 1] ?? Number.NaN),
    mean: round(n === 0 ? Number.NaN : sorted.reduce((a, b) => a + b, 0) / n),
  };
}

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** `1234.5` → `1235`, `12.34` → `12.3`, `0.123` → `0.12`. */
export function fmt(value: number | undefined | null): string {
  if (value === undefined || value === null || Number.isNaN(value)) return '–';
  const abs = Math.abs(value);
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export function fmtBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}

/** A plain text table: a header row, then rows; columns padded, numbers right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => {
        const w = widths[i] ?? 0;
        return /^[-+]?[\d.,]+( ?[a-zA-Z%×]*)?$|^–$/.test(c) ? c.padStart(w) : c.padEnd(w);
      })
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** Read VmRSS and VmHWM (kB) of a process from /proc. */
export async function processMemory(pid: number): Promise<{ rssKb: number; hwmKb: number }> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number =>
    Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM') };
}

/** Run a command; resolves with its exit code, stderr and duration (ms), never rejects on exit codes. */
export async function runCommand(
  file: string,
  args: readonly string[],
  options: { readonly env?: NodeJS.ProcessEnv; readonly cwd?: string } = {},
): Promise<{ code: number | null; ms: number; stdout: string; stderr: string }> {
  const { spawn } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const proc = spawn(file, args, {
      env: options.env ?? process.env,
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    proc.stdout.on('data', (c: Buffer) => out.push(c));
    proc.stderr.on('data', (c: Buffer) => err.push(c));
    proc.once('error', reject);
    proc.once('close', (code) => {
      resolve({
        code,
        ms: performance.now() - started,
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
      });
    });
  });
}

/** Counts how often `name` in `dir` is replaced (atomic writes rename a temp file onto it). */
export async function watchReplacements(dir: string, name: string): Promise<{ stop: () => number }> {
  const { watch } = await import('node:fs');
  let count = 0;
  const watcher = watch(dir, (event, filename) => {
    if (event === 'rename' && filename === name) count++;
  });
  return {
    stop: () => {
      watcher.close();
      return count;
    },
  };
}

/** The 1-minute load average and the machine's CPU time so far (jiffies), from /proc. */
export async function machineLoad(): Promise<{ load1: number; busy: number; total: number }> {
  const { readFile } = await import('node:fs/promises');
  const load1 = Number((await readFile('/proc/loadavg', 'utf8')).split(' ')[0]);
  const cpu =
    (await readFile('/proc/stat', 'utf8')).split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
  const total = cpu.reduce((a, b) => a + b, 0);
  const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
  return { load1, busy: total - idle, total };
}
