/**
 * The received JSON of an event with `traceparent` (and `tracestate`) added as its first members:
 * the gateway stamps a trace into events that come without one, and re-serialising the whole
 * event only for that cost more than the rest of its validation. Only for an event that had
 * neither attribute (so no key repeats); undefined when the bytes are not a JSON object.
 */
export function withTraceAttributes(
  received: Uint8Array,
  trace: { traceparent: string; tracestate?: string | undefined },
): Uint8Array | undefined {
  let start = 0;
  while (start < received.length && isJsonWhitespace(received[start]!)) start++;
  if (received[start] !== openBrace) return undefined;
  let next = start + 1;
  while (next < received.length && isJsonWhitespace(received[next]!)) next++;
  if (received[next] === closeBrace) return undefined; // {}: no member to put a comma before
  let members = `{"traceparent":${JSON.stringify(trace.traceparent)},`;
  if (trace.tracestate) members += `"tracestate":${JSON.stringify(trace.tracestate)},`;
  // One allocation: the members written in place, then the rest of the received bytes after them.
  const rest = received.length - (start + 1);
  const stamped = Buffer.allocUnsafe(Buffer.byteLength(members) + rest);
  const written = stamped.write(members);
  stamped.set(received.subarray(start + 1), written);
  return stamped;
}

const openBrace = 0x7b;
const closeBrace = 0x7d;

function isJsonWhitespace(byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
}
