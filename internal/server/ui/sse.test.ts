import { describe, expect, it } from '@jest/globals';
import { EventParser } from './sse.js';

describe('EventParser', () => {
  it('yields whole events, whatever the chunks', () => {
    const parser = new EventParser();
    const text = 'event: stacks\ndata: {"a":1}\n\n: keep-alive\n\nevent: stack\ndata: {"id":"x"}\n\n';
    const events = text.split('').flatMap((c) => parser.push(c));
    expect(events).toEqual([
      { event: 'stacks', data: '{"a":1}' },
      { event: 'stack', data: '{"id":"x"}' },
    ]);
  });

  it('joins data lines, defaults the event name, takes CRLF', () => {
    const parser = new EventParser();
    expect(parser.push('data: a\r\ndata:b\r\n\r\ndata\n\n')).toEqual([
      { event: 'message', data: 'a\nb' },
      { event: 'message', data: '' },
    ]);
  });

  it('keeps an unfinished event for the next chunk', () => {
    const parser = new EventParser();
    expect(parser.push('event: runs\ndata: {"runs":[]}\n')).toEqual([]);
    expect(parser.push('\n')).toEqual([{ event: 'runs', data: '{"runs":[]}' }]);
  });
});
