/** One Server-Sent Event as a client reads it. */
export interface ServerSentEvent {
  /** `message` unless the server named another (`event: dropped`). */
  event: string;
  data: string;
  /** The last `id:` seen on the stream so far (what a reconnect sends as `Last-Event-ID`). */
  lastEventId: string | undefined;
}

/**
 * Reads a `text/event-stream` body into events, as the WHATWG EventSource parser does: lines end
 * in CRLF, LF or CR; `data:` lines join with LF; comments (`:`) and unknown fields are skipped;
 * an event is dispatched at a blank line, and only when it has data.
 */
export async function* readServerSentEvents(
  body: AsyncIterable<Uint8Array>,
): AsyncGenerator<ServerSentEvent, void, undefined> {
  const decoder = new TextDecoder();
  let buffer = '';
  let lastEventId: string | undefined;
  let event = '';
  let data: string[] = [];
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let start = 0;
    for (;;) {
      const end = lineEnd(buffer, start);
      if (end === -1) break;
      const line = buffer.slice(start, end);
      // A CR at the very end may be the first half of a CRLF still to come: wait for it.
      if (buffer[end] === '\r' && end + 1 === buffer.length) break;
      start = end + (buffer[end] === '\r' && buffer[end + 1] === '\n' ? 2 : 1);
      if (line === '') {
        if (data.length > 0) yield { event: event || 'message', data: data.join('\n'), lastEventId };
        event = '';
        data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'data') data.push(value);
      else if (field === 'event') event = value;
      else if (field === 'id' && !value.includes('\0')) lastEventId = value;
    }
    buffer = buffer.slice(start);
  }
}

function lineEnd(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a || c === 0x0d) return i;
  }
  return -1;
}
