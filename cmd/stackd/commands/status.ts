/** `stackd status [--server URL] [--output json] [--watch]`: a running daemon's stack table. */
import type { StacksResponse } from '../../../internal/status/index.js';
import { CONFIG_FLAGS, type Io, OUTPUT_FLAG, configFrom, outputOf, parse, write } from '../cli.js';
import { request, serverUrl } from '../client.js';
import { stacksTable } from '../table.js';

const WATCH_INTERVAL_MS = 2000;

export async function runStatus(argv: readonly string[], io: Io): Promise<number> {
  const { values } = parse(argv, {
    ...CONFIG_FLAGS,
    ...OUTPUT_FLAG,
    server: { type: 'string' },
    watch: { type: 'boolean', short: 'w' },
  });
  const output = outputOf(values);
  const config = configFrom(values, io);
  const base = serverUrl(values['server'] as string | undefined, config);
  const show = async (): Promise<StacksResponse> => {
    const response = (await request(base, '/api/v1/stacks', config.server.token)) as StacksResponse;
    if (output === 'json') write(io.stdout, JSON.stringify(response, null, 2));
    else write(io.stdout, stacksTable(response));
    return response;
  };
  if (values['watch'] !== true) {
    const response = await show();
    return response.stacks.some((s) => s.status === 'failed') ? 1 : 0;
  }
  for (;;) {
    if (output === 'text') io.stdout.write('\x1b[2J\x1b[H');
    await show();
    await new Promise((resolve) => setTimeout(resolve, WATCH_INTERVAL_MS));
  }
}
