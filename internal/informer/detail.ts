/**
 * What the container list does not say: restart count and start time (from inspect), and the
 * last lines of a container's log. Only asked for one project at a time, when the reconciler
 * looks closely (readiness, crash loops), never for the full list.
 */
import type Dockerode from 'dockerode';
import type { ObservedContainer, ObservedProject } from './types.js';

/** Docker's `StartedAt` of a container never started. */
const NEVER = '0001-01-01T00:00:00Z';

function startedAtMs(text: string | undefined): number | undefined {
  if (text === undefined || text === NEVER) return undefined;
  const ms = Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}

/** The project with every container's restart count and start time; a container gone meanwhile keeps neither. */
export async function withDetails(
  docker: Dockerode,
  observed: ObservedProject,
  signal: AbortSignal,
): Promise<ObservedProject> {
  const containers = await Promise.all(
    observed.containers.map(async (c): Promise<ObservedContainer> => {
      try {
        const info = await docker.getContainer(c.id).inspect({ abortSignal: signal });
        const startedAt = startedAtMs(info.State.StartedAt);
        return {
          ...c,
          restartCount: info.RestartCount,
          ...(startedAt === undefined ? {} : { startedAt }),
        };
      } catch (error) {
        // Removed between the list and the inspect: the next look says so. Anything else (the
        // engine going away) is the caller's to report.
        if ((error as { statusCode?: unknown }).statusCode === 404) return c;
        throw error;
      }
    }),
  );
  return { ...observed, containers };
}

/**
 * A re-list from events knows no restart counts: keep the ones the last close look found for
 * the same containers, so the API does not flip between a count and nothing.
 */
export function carryDetails(previous: ObservedProject | undefined, next: ObservedProject): ObservedProject {
  if (previous === undefined) return next;
  const known = new Map(previous.containers.map((c) => [c.id, c]));
  const containers = next.containers.map((c) => {
    const before = known.get(c.id);
    // A container whose state moved may have restarted: its old count would under-count.
    if (c.restartCount !== undefined || before?.restartCount === undefined || before.state !== c.state)
      return c;
    return {
      ...c,
      restartCount: before.restartCount,
      ...(before.startedAt === undefined ? {} : { startedAt: before.startedAt }),
    };
  });
  return containers.some((c, i) => c !== next.containers[i]) ? { ...next, containers } : next;
}

/** Bytes of log kept at most, whatever the line count. */
export const LOG_TAIL_MAX_BYTES = 2048;

/**
 * The last `lines` lines of a container's output (stdout and stderr), as text, at most
 * LOG_TAIL_MAX_BYTES; '' when the engine has none or cannot say.
 */
export async function logTail(
  docker: Dockerode,
  id: string,
  lines: number,
  signal: AbortSignal,
): Promise<string> {
  let raw: Buffer;
  try {
    raw = await docker.getContainer(id).logs({
      stdout: true,
      stderr: true,
      follow: false,
      tail: lines,
      abortSignal: signal,
    });
  } catch (error) {
    if (signal.aborted) throw error;
    return '';
  }
  const text = demux(Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw))).toString('utf8');
  const kept = text.trimEnd().split('\n').slice(-lines).join('\n');
  return kept.length > LOG_TAIL_MAX_BYTES ? `…${kept.slice(-LOG_TAIL_MAX_BYTES)}` : kept;
}

/**
 * A container without a TTY sends its log as frames (1 byte stream, 3 zero bytes, 4 bytes
 * big-endian length, payload); with a TTY, as it is.
 */
export function demux(raw: Buffer): Buffer {
  const framed = (at: number): boolean =>
    raw.length >= at + 8 &&
    (raw[at] ?? 255) <= 2 &&
    raw[at + 1] === 0 &&
    raw[at + 2] === 0 &&
    raw[at + 3] === 0;
  if (!framed(0)) return raw;
  const parts: Buffer[] = [];
  let at = 0;
  while (at < raw.length && framed(at)) {
    const size = raw.readUInt32BE(at + 4);
    parts.push(raw.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  return Buffer.concat(parts);
}
