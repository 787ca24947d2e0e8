/**
 * Following the engine's event stream: container events of compose projects only, and only the
 * actions that change what a list would show (no `exec_*` noise from healthchecks).
 */
import type Dockerode from 'dockerode';
import { COMPOSE_PROJECT } from '../labels/index.js';
import { isOneOff } from './container.js';

/** Actions that change a container's list entry. `health_status` only fires on a change. */
export const WATCHED_ACTIONS = [
  'create',
  'start',
  'restart',
  'stop',
  'die',
  'kill',
  'oom',
  'pause',
  'unpause',
  'rename',
  'update',
  'destroy',
  'health_status',
] as const;

/** One container event of a compose project. */
export interface ContainerEvent {
  readonly project: string;
  /** Container id. */
  readonly id: string;
  /** `start`, `die`, `health_status: healthy`, … */
  readonly action: string;
}

export interface EventHandlers {
  /** A container of a compose project changed. */
  onEvent(event: ContainerEvent): void;
  /** The stream ended or failed; not called after `close()`. */
  onEnd(error: Error): void;
}

export interface EventStream {
  close(): void;
}

/** The HTTP response dockerode hands back for a stream: a readable that can be destroyed. */
type EventSource = NodeJS.ReadableStream & { destroy(error?: Error): void };

interface DockerEvent {
  readonly Type?: unknown;
  readonly Action?: unknown;
  readonly Actor?: { readonly ID?: unknown; readonly Attributes?: Record<string, string> };
}

/** A raw event line as a ContainerEvent, or undefined when it is not one we follow. */
export function parseEvent(line: string): ContainerEvent | undefined {
  let event: DockerEvent;
  try {
    event = JSON.parse(line) as DockerEvent;
  } catch {
    return undefined;
  }
  if (event.Type !== 'container' || typeof event.Action !== 'string' || event.Action.startsWith('exec_')) {
    return undefined;
  }
  const attributes = event.Actor?.Attributes ?? {};
  const project = attributes[COMPOSE_PROJECT];
  if (project === undefined || project === '' || isOneOff(attributes)) return undefined;
  const id = typeof event.Actor?.ID === 'string' ? event.Actor.ID : '';
  return { project, id, action: event.Action };
}

export async function followEvents(
  docker: Dockerode,
  signal: AbortSignal,
  handlers: EventHandlers,
): Promise<EventStream> {
  const options: Dockerode.GetEventsOptions & { abortSignal: AbortSignal } = {
    filters: { type: ['container'], label: [COMPOSE_PROJECT], event: [...WATCHED_ACTIONS] },
    abortSignal: signal,
  };
  const stream = (await docker.getEvents(options)) as EventSource;
  let closed = false;
  let ended = false;
  let buffer = '';
  const finish = (error: Error): void => {
    if (ended) return;
    ended = true;
    if (!closed) handlers.onEnd(error);
  };
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffer += chunk;
    for (let newline = buffer.indexOf('\n'); newline >= 0; newline = buffer.indexOf('\n')) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      const event = parseEvent(line);
      if (event !== undefined && !closed) handlers.onEvent(event);
    }
  });
  stream.on('error', (error: Error) => {
    finish(error);
  });
  stream.on('end', () => {
    finish(new Error('event stream ended'));
  });
  stream.on('close', () => {
    finish(new Error('event stream closed'));
  });
  return {
    close() {
      closed = true;
      stream.destroy();
    },
  };
}
