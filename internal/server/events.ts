/**
 * `GET /api/v1/events`: Server-Sent Events for the status page. On connect the stream sends
 * `stacks` (what `GET /api/v1/stacks` answers); then, whenever something changes (coalesced over
 * COALESCE_MS), `stack` (one StackStatus that changed), `removed` (`{id}` of a stack no longer
 * reported), `source` (the response's other fields) and `runs` (`{runs}` when the runs log
 * changed). One hub computes each change once for every client: the cost of a change does not
 * grow with the number of streams. A comment line every HEARTBEAT_MS keeps proxies from closing
 * an idle stream and finds dead clients. A client that does not read (more than MAX_BUFFERED
 * bytes waiting) is dropped; it reconnects and starts from a fresh `stacks`.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { realClock, type Clock, type TimerHandle } from '../../pkg/clock/index.js';
import type { Logger } from '../log/index.js';
import type { StacksResponse } from '../status/index.js';
import type { Guards } from './auth.js';
import type { ServerController } from './options.js';
import { LogEvent } from '../log/index.js';

/** Changes within this window go out as one batch. */
const COALESCE_MS = 100;
const HEARTBEAT_MS = 25_000;
/** Open streams at most; one more is answered 503 (each holds a connection of MAX_CONNECTIONS). */
const MAX_EVENT_STREAMS = 64;
const MAX_BUFFERED = 1024 * 1024;

export interface EventHubOptions {
  readonly clock?: Clock;
  readonly logger: Logger;
  /** Told the number of open streams whenever it changes (`stackd_event_streams`). */
  readonly streams?: (open: number) => void;
}

type Controller = Pick<ServerController, 'stacks' | 'runs'> & {
  onChange(listener: () => void): () => void;
};

/** One SSE frame: `event: name`, the JSON on one `data:` line (JSON has no raw newlines). */
function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

class EventHub {
  readonly #controller: Controller;
  readonly #clock: Clock;
  readonly #o: EventHubOptions;
  readonly #clients = new Set<ServerResponse>();
  /** What the clients were last told: each stack's JSON, the top fields, the runs. */
  #stacks = new Map<string, string>();
  #top = '';
  #runs = '';
  #flushTimer: TimerHandle = undefined;
  #heartbeat: TimerHandle = undefined;
  #off: (() => void) | undefined;

  constructor(controller: Controller, options: EventHubOptions) {
    this.#controller = controller;
    this.#clock = options.clock ?? realClock;
    this.#o = options;
  }

  get size(): number {
    return this.#clients.size;
  }

  /** Starts streaming to `res` (headers already written); false when the hub is full. */
  open(res: ServerResponse): boolean {
    if (this.#clients.size >= MAX_EVENT_STREAMS) return false;
    // Clients already open hear what changed until now, so that the baseline is now.
    this.#flush();
    if (this.#clients.size === 0) {
      this.#off = this.#controller.onChange(() => {
        this.#schedule();
      });
      this.#baseline();
      this.#beat();
    }
    this.#clients.add(res);
    res.on('close', () => {
      this.#drop(res);
    });
    this.#write(res, frame('stacks', this.#controller.stacks()));
    this.#o.streams?.(this.#clients.size);
    return true;
  }

  /** Ends every stream (the server is closing). */
  close(): void {
    for (const res of [...this.#clients]) {
      res.end();
      this.#drop(res);
    }
  }

  #drop(res: ServerResponse): void {
    if (!this.#clients.delete(res)) return;
    this.#o.streams?.(this.#clients.size);
    this.#o.logger.debug('event stream closed', { event: LogEvent.eventsClosed, open: this.#clients.size });
    if (this.#clients.size > 0) return;
    this.#off?.();
    this.#off = undefined;
    this.#clock.clearTimeout(this.#flushTimer);
    this.#clock.clearTimeout(this.#heartbeat);
    this.#flushTimer = undefined;
    this.#heartbeat = undefined;
  }

  #baseline(): void {
    const response = this.#controller.stacks();
    this.#stacks = new Map(response.stacks.map((s) => [s.id, JSON.stringify(s)]));
    this.#top = JSON.stringify(topOf(response));
    this.#runs = JSON.stringify(this.#controller.runs());
  }

  #schedule(): void {
    if (this.#flushTimer !== undefined) return;
    this.#flushTimer = this.#clock.setTimeout(() => {
      this.#flushTimer = undefined;
      this.#flush();
    }, COALESCE_MS);
  }

  #beat(): void {
    this.#heartbeat = this.#clock.setTimeout(() => {
      for (const res of this.#clients) this.#write(res, ': keep-alive\n\n');
      if (this.#clients.size > 0) this.#beat();
    }, HEARTBEAT_MS);
  }

  /** Tells every client what changed since the last flush. */
  #flush(): void {
    if (this.#clients.size === 0) return;
    const response = this.#controller.stacks();
    let out = '';
    const seen = new Set<string>();
    for (const stack of response.stacks) {
      seen.add(stack.id);
      const json = JSON.stringify(stack);
      if (this.#stacks.get(stack.id) === json) continue;
      this.#stacks.set(stack.id, json);
      out += `event: stack\ndata: ${json}\n\n`;
    }
    for (const id of [...this.#stacks.keys()]) {
      if (seen.has(id)) continue;
      this.#stacks.delete(id);
      out += frame('removed', { id });
    }
    const top = JSON.stringify(topOf(response));
    if (top !== this.#top) {
      this.#top = top;
      out += `event: source\ndata: ${top}\n\n`;
    }
    const runs = this.#controller.runs();
    const runsJson = JSON.stringify(runs);
    if (runsJson !== this.#runs) {
      this.#runs = runsJson;
      out += frame('runs', { runs });
    }
    if (out === '') return;
    for (const res of this.#clients) this.#write(res, out);
  }

  #write(res: ServerResponse, text: string): void {
    if (res.writableLength > MAX_BUFFERED) {
      this.#o.logger.debug('event stream dropped: the client does not read', {
        event: LogEvent.eventsClosed,
        reason: 'slow client',
      });
      res.destroy();
      this.#drop(res);
      return;
    }
    res.write(text);
  }
}

/** The response's fields besides the stacks. */
function topOf(response: StacksResponse): Omit<StacksResponse, 'stacks'> {
  return {
    revision: response.revision,
    fetchedAt: response.fetchedAt,
    reconcileEnabled: response.reconcileEnabled,
    source: response.source,
  };
}

/** `GET /api/v1/events` (read guard), when the controller reports its changes. */
export function registerEventRoute(
  app: FastifyInstance,
  controller: ServerController,
  guards: Guards,
  options: EventHubOptions,
): void {
  const onChange = controller.onChange?.bind(controller);
  if (onChange === undefined) return;
  const hub = new EventHub(
    { stacks: () => controller.stacks(), runs: () => controller.runs(), onChange },
    options,
  );
  app.addHook('preClose', (done) => {
    hub.close();
    done();
  });
  app.get('/api/v1/events', { onRequest: guards.read }, (request, reply) => {
    if (hub.size >= MAX_EVENT_STREAMS) {
      return reply
        .code(503)
        .header('retry-after', '30')
        .send({ error: `too many event streams open (${MAX_EVENT_STREAMS}); try again later` });
    }
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      ...(reply.getHeaders() as Record<string, string>),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      // nginx and similar proxies: pass events through as they come.
      'x-accel-buffering': 'no',
    });
    // The socket is held for as long as the client reads; it is not a request that times out.
    request.raw.socket.setTimeout(0);
    hub.open(res);
    options.logger.debug('event stream opened', {
      event: LogEvent.eventsOpened,
      remote: request.socket.remoteAddress,
      open: hub.size,
    });
    return reply;
  });
}
