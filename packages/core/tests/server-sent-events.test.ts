import { describe, expect, test } from 'vitest';
import { readServerSentEvents, type ServerSentEvent } from '../src/index.js';

async function read(chunks: string[]): Promise<ServerSentEvent[]> {
  async function* body() {
    for (const chunk of chunks) yield new TextEncoder().encode(chunk);
  }
  const events: ServerSentEvent[] = [];
  for await (const event of readServerSentEvents(body())) events.push(event);
  return events;
}

describe('readServerSentEvents', () => {
  test('reads ids, data and event names; skips comments; needs a blank line to dispatch', async () => {
    expect(
      await read([
        ': tailing\n\n',
        'id: 7\ndata: {"a":1}\n\n',
        'event: dropped\ndata: {"reason":"slow"}\n\n',
        'data: cut',
      ]),
    ).toEqual([
      { event: 'message', data: '{"a":1}', lastEventId: '7' },
      { event: 'dropped', data: '{"reason":"slow"}', lastEventId: '7' },
    ]);
  });

  test('any line ending, split anywhere, including a CRLF split between chunks', async () => {
    const text = 'id: 1\r\ndata: one\r\n\r\nid: 2\rdata: two\r\rid: 3\ndata: a\ndata:b\n\n';
    const expected = [
      { event: 'message', data: 'one', lastEventId: '1' },
      { event: 'message', data: 'two', lastEventId: '2' },
      { event: 'message', data: 'a\nb', lastEventId: '3' },
    ];
    expect(await read([text])).toEqual(expected);
    for (let cut = 1; cut < text.length; cut++) {
      expect(await read([text.slice(0, cut), text.slice(cut)])).toEqual(expected);
    }
  });

  test('multi-byte characters split across chunks', async () => {
    const bytes = new TextEncoder().encode('data: {"city":"Zürich ☃"}\n\n');
    async function* body() {
      for (const b of bytes) yield Uint8Array.of(b);
    }
    const events: ServerSentEvent[] = [];
    for await (const event of readServerSentEvents(body())) events.push(event);
    expect(events.map((e) => e.data)).toEqual(['{"city":"Zürich ☃"}']);
  });
});
