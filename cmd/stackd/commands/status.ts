/**
 * `stackd status [ID] [--watch] [--server URL] [--output json]`: a running daemon's stacks (and
 * its source, when fetches fail), or one stack in detail. Exit 3 when the source cannot be
 * fetched, 1 when a stack shown is failed, 4 when the daemon cannot be reached. `--watch` redraws
 * every 2 s and keeps trying through a daemon restart.
 */
import type { StackDetail, StacksResponse } from '../../../internal/status/index.js';
import { type Io, type Output, outputOf, parseCommand, UsageError, write } from '../cli.js';
import { type Daemon, UnreachableError, daemonFrom } from '../client.js';
import { sourceLine, stackDetail, stacksTable } from '../table.js';

const WATCH_INTERVAL_MS = 2000;

/** The source's last error, if any (a 0.1 daemon answers no `source`). */
const sourceError = (response: StacksResponse): string | null =>
  (response as Partial<StacksResponse>).source?.lastError ?? null;

/** One look: what to print and the exit code it means (3 when the source fails wins over 1). */
async function look(daemon: Daemon, id: string | undefined, output: Output): Promise<[string, number]> {
  const response = (await daemon.call('/api/v1/stacks')) as StacksResponse;
  const failing = sourceError(response) !== null;
  if (id !== undefined) {
    const detail = (await daemon.call(`/api/v1/stacks/${encodeURIComponent(id)}`)) as StackDetail;
    const source = sourceLine(response.source);
    const text =
      output === 'json'
        ? JSON.stringify(detail, null, 2)
        : `${source === undefined ? '' : `${source}\n`}${stackDetail(detail)}`;
    return [text, failing ? 3 : detail.status === 'failed' ? 1 : 0];
  }
  const text = output === 'json' ? JSON.stringify(response, null, 2) : stacksTable(response);
  return [text, failing ? 3 : response.stacks.some((s) => s.status === 'failed') ? 1 : 0];
}

export async function runStatus(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand('status', argv);
  if (positionals.length > 1)
    throw new UsageError(`status takes at most one stack id, got ${positionals.length}`);
  const output = outputOf(values);
  const daemon = daemonFrom(values, io);
  const id = positionals[0];
  if (values['watch'] !== true) {
    const [text, code] = await look(daemon, id, output);
    write(io.stdout, text);
    return code;
  }
  for (;;) {
    let text: string;
    try {
      [text] = await look(daemon, id, output);
    } catch (error) {
      // A restarting daemon is what --watch is for: say so and keep looking.
      if (!(error instanceof UnreachableError)) throw error;
      const at = new Date().toISOString();
      const retry = `daemon unreachable, retrying every ${WATCH_INTERVAL_MS / 1000} s`;
      text =
        output === 'json'
          ? JSON.stringify({ at, unreachable: true, error: error.message })
          : `${at} ${retry}: ${error.message}`;
    }
    if (output === 'text') io.stdout.write('\x1b[2J\x1b[H');
    write(io.stdout, text);
    await new Promise((resolve) => setTimeout(resolve, WATCH_INTERVAL_MS));
  }
}
