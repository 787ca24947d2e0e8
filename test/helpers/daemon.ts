/** A `stackd run` process for end-to-end tests: started on a free port, its JSON log lines kept. */
import { createHmac, randomUUID } from 'node:crypto';
import type { StackStatus, StacksResponse } from '../../internal/status/index.js';
import { waitFor } from './docker.js';
import type { Harness } from './stackd.js';

export interface Daemon {
  readonly url: string;
  readonly pid: number;
  /** Every JSON log line so far. */
  readonly logs: readonly Record<string, unknown>[];
  get(path: string): Promise<Response>;
  stacks(): Promise<StacksResponse>;
  stack(id: string): Promise<StackStatus | undefined>;
  /** Sum of a metric's samples whose labels contain `labels`. */
  metric(name: string, labels?: Readonly<Record<string, string>>): Promise<number>;
  /** SIGTERM (or `signal`) and wait: the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | undefined>;
  readonly exited: Promise<number | undefined>;
}

export async function startDaemon(h: Harness, env: Readonly<Record<string, string>> = {}): Promise<Daemon> {
  const proc = h.daemon([], { STACKD_LISTEN: '127.0.0.1:0', STACKD_LOG_LEVEL: 'debug', ...env });
  const logs: Record<string, unknown>[] = [];
  let buffer = '';
  proc.stderr.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ raw: line });
      }
    }
  });
  const exited = proc.then((r) => r.exitCode);
  const url = await waitFor(
    'stackd to listen',
    async () => {
      const started = logs.find((l) => l['event'] === 'daemon.start');
      if (started === undefined && proc.exitCode !== null) {
        throw new Error(`stackd exited ${proc.exitCode}: ${JSON.stringify(logs)}`);
      }
      await Promise.resolve();
      return typeof started?.['listen'] === 'string' ? started['listen'] : undefined;
    },
    30_000,
  );
  const get = (path: string): Promise<Response> => fetch(`${url}${path}`);
  return {
    url,
    pid: proc.pid ?? -1,
    logs,
    get,
    async stacks() {
      return (await (await get('/api/v1/stacks')).json()) as StacksResponse;
    },
    async stack(id) {
      const r = await get(`/api/v1/stacks/${encodeURIComponent(id)}`);
      return r.status === 200 ? ((await r.json()) as StackStatus) : undefined;
    },
    async metric(name, labels = {}) {
      const text = await (await get('/metrics')).text();
      let sum = 0;
      for (const line of text.split('\n')) {
        const m = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
        if (m?.[1] !== name) continue;
        const have = m[2] ?? '';
        if (Object.entries(labels).every(([k, v]) => have.includes(`${k}="${v}"`))) sum += Number(m[3]);
      }
      return sum;
    },
    async stop(signal = 'SIGTERM') {
      proc.kill(signal);
      return exited;
    },
    exited,
  };
}

/** A GitHub push webhook, signed with `secret` (or a wrong signature). */
export function githubPush(
  url: string,
  secret: string,
  ref: string,
  options: { badSignature?: boolean; after?: string } = {},
): Promise<Response> {
  const after = options.after ?? '0'.repeat(40);
  // Every delivery is a new one, as a forge's are (stackd answers a replayed one `duplicate`).
  const delivery = randomUUID();
  const body = JSON.stringify({ ref, after, repository: { full_name: 'test/stacks' }, delivery });
  const signature = createHmac('sha256', options.badSignature === true ? `${secret}-wrong` : secret)
    .update(body)
    .digest('hex');
  return fetch(`${url}/api/v1/webhook`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'push',
      'x-github-delivery': delivery,
      'x-hub-signature-256': `sha256=${signature}`,
    },
    body,
  });
}

/** Poll the API until one stack matches `predicate`. */
export function waitForStack(
  d: Daemon,
  id: string,
  what: string,
  predicate: (s: StackStatus) => boolean,
  timeoutMs = 60_000,
): Promise<StackStatus> {
  return waitFor(
    `${id} ${what}`,
    async () => {
      const s = await d.stack(id);
      return s !== undefined && predicate(s) ? s : undefined;
    },
    timeoutMs,
    100,
  );
}
