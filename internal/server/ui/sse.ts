/**
 * A reader of `text/event-stream` (the WHATWG format `GET /api/v1/events` writes), for the status
 * page: `EventSource` cannot send an `Authorization` header, so the page reads the stream with
 * `fetch` and parses it here. Pure: fed text in any chunks, it yields whole events.
 */

export interface StreamEvent {
  /** `event:` (default `message`). */
  readonly event: string;
  /** The `data:` lines, joined by newlines. */
  readonly data: string;
}

export class EventParser {
  #buffer = '';

  /** Feeds a chunk; returns the events it completed (a blank line ends one). */
  push(chunk: string): StreamEvent[] {
    this.#buffer += chunk.replace(/\r\n?/g, '\n');
    const events: StreamEvent[] = [];
    let end = this.#buffer.indexOf('\n\n');
    while (end !== -1) {
      const block = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      const event = parseBlock(block);
      if (event !== undefined) events.push(event);
      end = this.#buffer.indexOf('\n\n');
    }
    return events;
  }
}

function parseBlock(block: string): StreamEvent | undefined {
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  return data.length === 0 ? undefined : { event, data: data.join('\n') };
}
