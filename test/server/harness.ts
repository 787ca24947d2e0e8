/** Starts a real server on loopback (port 0) around a FakeController, and captures its log lines. */
import { createHmac } from 'node:crypto';
import { Writable } from 'node:stream';
import { createLogger } from '../../internal/log/index.js';
import { type Metrics, createMetrics } from '../../internal/metrics/index.js';
import { type ServerOptions, createServer } from '../../internal/server/index.js';
import { FakeController } from './fake_controller.js';

export const SECRET = 'whsec-correct-horse-battery';
export const TOKEN = 'api-token-0123456789';
export const GITLAB_TOKEN = 'gitlab-token-0123456789abcdef';
export const REGISTRY_TOKEN = 'registry-token-0123456789abcdef';

export interface Harness {
  readonly base: string;
  readonly controller: FakeController;
  readonly metrics: Metrics;
  /** Every log line so far, parsed. */
  readonly logs: Record<string, unknown>[];
  /** Every log line so far, as written. */
  readonly rawLogs: string[];
  close(): Promise<void>;
}

export interface HarnessOptions {
  readonly host?: string;
  /** @default 0 (any free port) */
  readonly port?: number;
  readonly token?: string;
  readonly webhookSecret?: string;
  readonly gitlabToken?: string;
  readonly registryToken?: string;
  /** @default a new FakeController (which takes no registry pushes) */
  readonly controller?: FakeController;
  readonly allowedHosts?: readonly string[];
  readonly allowedOrigins?: readonly string[];
  readonly branch?: string;
  readonly metrics?: Metrics;
  readonly webUrl?: string;
  readonly instance?: string;
}

export async function startServer(options: HarnessOptions = {}): Promise<Harness> {
  const rawLogs: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      rawLogs.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter((l) => l !== ''),
      );
      callback();
    },
  });
  const logger = createLogger({ level: 'debug', stream });
  const controller = options.controller ?? new FakeController();
  const metrics = options.metrics ?? createMetrics({ defaultMetrics: false });
  const serverOptions: ServerOptions = {
    controller,
    logger,
    branch: options.branch ?? 'main',
    metrics,
    version: '0.1.0-test',
    ...(options.token !== undefined ? { token: options.token } : {}),
    ...(options.webhookSecret !== undefined ? { webhookSecret: options.webhookSecret } : {}),
    ...(options.gitlabToken !== undefined ? { gitlabToken: options.gitlabToken } : {}),
    ...(options.registryToken !== undefined ? { registryToken: options.registryToken } : {}),
    ...(options.allowedHosts !== undefined ? { allowedHosts: options.allowedHosts } : {}),
    ...(options.allowedOrigins !== undefined ? { allowedOrigins: options.allowedOrigins } : {}),
    ...(options.webUrl !== undefined ? { webUrl: options.webUrl } : {}),
    ...(options.instance !== undefined ? { instance: options.instance } : {}),
  };
  const server = createServer(serverOptions);
  const address = await server.listen(options.host ?? '127.0.0.1', options.port ?? 0);
  return {
    base: address.url,
    controller,
    metrics,
    rawLogs,
    get logs() {
      return rawLogs.map((l) => JSON.parse(l) as Record<string, unknown>);
    },
    close: () => server.close(),
  };
}

export function hmacHex(secret: string, body: string | Buffer): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

export async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

/** `stackd_webhook_requests_total{provider, result}` of the harness's metrics; 0 when not counted yet. */
export async function webhookCount(h: Harness, provider: string, result: string): Promise<number> {
  const text = await h.metrics.registry.metrics();
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`stackd_webhook_requests_total{provider="${provider}",result="${result}"} `));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}
