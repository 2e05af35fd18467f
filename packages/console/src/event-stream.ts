import { ApiError, authHeaders } from './api.js';

/** One Server-Sent Events message. */
export interface StreamMessage {
  id: string | undefined;
  event: string;
  data: string;
}

/**
 * Reads a text/event-stream with fetch: EventSource cannot send an Authorization header, and the
 * console's token must not go in a URL (it would land in logs). Calls `onMessage` for each message
 * until `signal` aborts or the server ends the stream.
 */
export async function readEventStream(
  path: string,
  onMessage: (message: StreamMessage) => void,
  signal: AbortSignal,
  options: { lastEventId?: string | undefined; onOpen?: () => void } = {},
): Promise<void> {
  const headers = authHeaders({ accept: 'text/event-stream' });
  if (options.lastEventId) headers['last-event-id'] = options.lastEventId;
  const res = await fetch(path, { headers, signal });
  if (!res.ok || !res.body) {
    const problem = (await res.json().catch(() => ({}))) as { detail?: string; code?: string };
    throw new ApiError(res.status, problem.code, problem.detail ?? `${res.status} ${res.statusText}`);
  }
  options.onOpen?.();
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const message = parseBlock(block);
      if (message) onMessage(message);
      end = buffer.indexOf('\n\n');
    }
  }
}

function parseBlock(block: string): StreamMessage | undefined {
  let id: string | undefined;
  let event = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue; // a comment: the server's keep-alive
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') id = value;
    else if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  return data.length > 0 || event !== 'message' ? { id, event, data: data.join('\n') } : undefined;
}
