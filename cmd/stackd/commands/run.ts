/** `stackd run`: the daemon (createDaemon) and its HTTP server; SIGTERM stops it cleanly. */
import { createDaemon } from '../../../internal/controller/index.js';
import { parseListen } from '../../../internal/config/index.js';
import { createServer } from '../../../internal/server/index.js';
import { type Io, configFrom, parseCommand } from '../cli.js';
import { loggerFor } from '../logger.js';
import { version } from './version.js';
import { LogEvent } from '../../../internal/log/index.js';

export async function runDaemon(argv: readonly string[], io: Io): Promise<number> {
  const { values } = parseCommand('run', argv);
  const config = configFrom(values, io, true);
  const logger = loggerFor(config, io);
  // Listening from the start: a SIGTERM during startup stops cleanly once startup is done, instead
  // of killing the process mid-way (Node's default) with the lock and state left behind.
  let signalled: string | undefined;
  const stopped = new Promise<string>((resolve) => {
    const on = (name: string) => () => {
      signalled = name;
      resolve(name);
    };
    process.once('SIGTERM', on('SIGTERM'));
    process.once('SIGINT', on('SIGINT'));
  });
  const { runtime, controller, metrics, feedback } = await createDaemon(config, { logger });
  const server = createServer({
    controller,
    logger,
    token: config.server.token,
    webhookSecret: config.webhook.secret,
    gitlabToken: config.webhook.gitlabToken,
    registryToken: config.webhook.registryToken,
    allowedHosts: config.server.allowedHosts,
    allowedOrigins: config.server.allowedOrigins,
    branch: config.source.branch,
    metrics,
    version: version(),
    instance: config.instance,
    webUrl: config.source.webUrl,
  });
  const listen = parseListen(config.server.listen);
  const address = await server.listen(listen?.host ?? '127.0.0.1', listen?.port ?? 8700);
  logger.info(`stackd ${version()} listening on ${address.url}, instance ${config.instance}`, {
    event: LogEvent.daemonStart,
    listen: address.url,
    instance: config.instance,
    dataDir: config.dataDir,
  });
  // Stopped while starting: no reconcile is begun (no worker, no refresh), the server closes.
  if (signalled === undefined) await controller.start();
  // Which compose runs is worth a log line, not a delay before the first reconcile.
  runtime.compose.describe().then(
    (compose) => logger.info(`using ${compose}`, { event: LogEvent.composeDetected, compose }),
    (error: unknown) =>
      logger.error(`no usable compose command: ${(error as Error).message}`, {
        event: LogEvent.composeUnavailable,
      }),
  );

  const signal = await stopped;
  logger.info(`${signal}: finishing the running reconcile, then exiting`, {
    event: LogEvent.daemonStop,
    signal,
  });
  await server.close();
  await controller.stop();
  // The last reconcile's notifications go out (within a grace period) before the process ends.
  await feedback?.close();
  logger.info('stopped', { event: LogEvent.daemonStopped });
  return 0;
}
