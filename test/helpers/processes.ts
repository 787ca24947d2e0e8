/**
 * The processes of this machine as tests watch them: every argv seen while a sampler ran, the
 * environment of one process's descendants, and the files a directory holds.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Every process's argv (and, for the daemon's descendants, environment) while sampling ran. */
export class ProcessSampler {
  readonly cmdlines = new Map<string, number>();
  readonly environs = new Map<number, string>();
  readonly #timer: NodeJS.Timeout;
  #busy = false;

  #running: Promise<void> = Promise.resolve();

  /**
   * Samples every `intervalMs`; `root` is the process whose descendants' environments are kept
   * (none when it returns undefined). Processes that come and go between two looks are missed.
   */
  constructor(
    readonly root: () => number | undefined = () => undefined,
    intervalMs = 20,
  ) {
    this.#timer = setInterval(() => {
      if (!this.#busy) this.#running = this.#sample();
    }, intervalMs);
  }

  async #sample(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      const parents = new Map<number, number>();
      const pids = (await readdir('/proc')).filter((e) => /^\d+$/.test(e)).map(Number);
      const root = this.root();
      // All at once: a compose process may live only a few hundred milliseconds.
      await Promise.all(
        pids.map(async (pid) => {
          try {
            const cmdline = (await readFile(`/proc/${pid}/cmdline`)).toString('utf8').split('\0').join(' ');
            if (cmdline !== '') this.cmdlines.set(cmdline, pid);
            if (root === undefined) return;
            const st = await readFile(`/proc/${pid}/stat`, 'utf8');
            parents.set(pid, Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]));
          } catch {
            // gone meanwhile
          }
        }),
      );
      if (root === undefined) return;
      for (const pid of pids) {
        let p = parents.get(pid);
        while (p !== undefined && p > 1 && p !== root) p = parents.get(p);
        if (p !== root) continue;
        const environ = await readFile(`/proc/${pid}/environ`).catch(() => undefined);
        if (environ !== undefined) this.environs.set(pid, environ.toString('utf8').split('\0').join('\n'));
      }
    } finally {
      this.#busy = false;
    }
  }

  /** Stop sampling (after the look in progress): the argv seen, once each. */
  async stop(): Promise<string[]> {
    clearInterval(this.#timer);
    await this.#running;
    return [...this.cmdlines.keys()];
  }
}

/** Every file under `dir`, recursively (paths). */
export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}
