import type { CloudEventRecord } from '../cloudevent/cloud-event.js';
import { eventMessageId } from '../cloudevent/event-identity.js';
import type { EventRouting } from '../cloudevent/routing-shard.js';
import { FuzeError } from '../errors/index.js';
import { delayedSubject, deliverAtHeader, eventSubject } from '../naming.js';
import { parseDuration } from '../time/duration.js';
import { instantHint, parseInstant } from '../time/instant.js';
import type { WireMessage } from './wire-message.js';

/**
 * The JetStream message for an accepted CloudEvent: structured JSON body, subject by bus and
 * type, Nats-Msg-Id from source+id (dedupe), and W3C trace context lifted into headers so
 * consumers can continue the trace without parsing the body.
 *
 * Delayed delivery: an event with a `deliverat` (RFC 3339) or `delay` (duration such as `30s`,
 * `5m`, `1h30m`) extension that lies in the future goes to the delayed stream
 * (`<p>.delayed.<bus>.<type>`) with its due time in the `Fuze-Deliver-At` header; the scheduler
 * holds it and publishes it into the events stream at that time. The two extensions are removed
 * from the body either way, so no event in the events stream carries them; a due time already
 * past (or a zero delay) publishes straight into the events stream. `delay` counts from `nowMs`,
 * the publisher's clock. Throws FUZE_INVALID_EVENT for an unreadable `deliverat`/`delay`.
 *
 * `routing` chooses the routing shard in the subject (`EventRouting`: every publisher of a
 * deployment must pass the same). `received`, when given, must be JSON that parses to exactly `event` (the gateway's request
 * body, when it changed nothing): it is stored as is, saving a second serialisation.
 */
export function encodeEventMessage(
  prefix: string,
  bus: string,
  event: CloudEventRecord,
  routing: EventRouting,
  nowMs: number = Date.now(),
  received?: Uint8Array,
): WireMessage {
  const deliverAtMs = requestedDeliveryTime(event, nowMs);
  const body = deliverAtMs === undefined ? event : withoutDeliveryExtensions(event);
  const headers: Record<string, string> = {};
  if (typeof event.traceparent === 'string') headers.traceparent = event.traceparent;
  if (typeof event.tracestate === 'string') headers.tracestate = event.tracestate;
  const held = deliverAtMs !== undefined && deliverAtMs > nowMs;
  if (held) headers[deliverAtHeader] = new Date(deliverAtMs).toISOString();
  return {
    subject: held
      ? delayedSubject(prefix, bus, event.type)
      : eventSubject(prefix, bus, routing.shardOf(bus, event), event.type),
    // Buffer.from is a Uint8Array and encodes UTF-8 faster than TextEncoder on this path.
    payload: received !== undefined && body === event ? received : Buffer.from(JSON.stringify(body)),
    msgId: eventMessageId(event.source, event.id),
    headers,
  };
}

const utf8Decoder = new TextDecoder();

/** The text of an events-stream message body (its structured-mode JSON). */
export function eventMessageText(payload: Uint8Array): string {
  return utf8Decoder.decode(payload);
}

/** Reads the text of an events-stream message body (eventMessageText) into a CloudEvent. */
export function parseEventText(text: string): CloudEventRecord {
  return JSON.parse(text) as CloudEventRecord;
}

/** Reads an events-stream message body back into a CloudEvent. */
export function decodeEventMessage(payload: Uint8Array): CloudEventRecord {
  return parseEventText(eventMessageText(payload));
}

/** The due time (epoch ms) `deliverat` or `delay` asks for, or undefined when neither is set. */
function requestedDeliveryTime(event: CloudEventRecord, nowMs: number): number | undefined {
  const { deliverat, delay } = event;
  if (deliverat === undefined && delay === undefined) return undefined;
  if (deliverat !== undefined && delay !== undefined) {
    throw invalid('deliverat', 'set either deliverat or delay, not both');
  }
  if (deliverat !== undefined) {
    const at = typeof deliverat === 'string' ? parseInstant(deliverat) : undefined;
    if (at === undefined) throw invalid('deliverat', `is not a timestamp: ${instantHint}`);
    if (at > latestDeliveryMs) throw invalid('deliverat', `must be no later than ${latestDelivery}`);
    return at;
  }
  if (typeof delay !== 'string') throw invalid('delay', 'must be a duration string such as 30s, 5m or 1h30m');
  let ms: number;
  try {
    ms = parseDuration(delay);
  } catch (err) {
    throw invalid('delay', (err as Error).message);
  }
  if (nowMs + ms > latestDeliveryMs)
    throw invalid('delay', `"${delay}" is too long: the event would be due after ${latestDelivery}`);
  return nowMs + ms;
}

/** The last due time an event may ask for: the last instant an RFC 3339 (four-digit) year can name. */
const latestDelivery = '9999-12-31T23:59:59.999Z';
const latestDeliveryMs = Date.parse(latestDelivery);

function withoutDeliveryExtensions(event: CloudEventRecord): CloudEventRecord {
  const { deliverat: _deliverat, delay: _delay, ...rest } = event;
  return rest as CloudEventRecord;
}

function invalid(pointer: string, message: string): FuzeError {
  return new FuzeError('FUZE_INVALID_EVENT', `${pointer}: ${message}`, {
    details: { problems: [{ pointer, message }] },
  });
}
