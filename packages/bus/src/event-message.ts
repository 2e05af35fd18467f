import { type CloudEventRecord, eventMessageId, eventSubject } from '@fuze/core';
import type { PublishRequest } from './publisher.js';

const utf8 = new TextEncoder();

/**
 * The events-stream message for an accepted CloudEvent: structured JSON body, subject by bus
 * and type, Nats-Msg-Id from source+id (dedupe), and W3C trace context lifted into headers so
 * consumers can continue the trace without parsing the body.
 */
export function eventPublishRequest(prefix: string, bus: string, event: CloudEventRecord): PublishRequest {
  const headers: Record<string, string> = {};
  if (typeof event.traceparent === 'string') headers.traceparent = event.traceparent;
  if (typeof event.tracestate === 'string') headers.tracestate = event.tracestate;
  return {
    subject: eventSubject(prefix, bus, event.type),
    payload: utf8.encode(JSON.stringify(event)),
    msgId: eventMessageId(event.source, event.id),
    headers,
  };
}

/** Reads an events-stream message body back into a CloudEvent. */
export function decodeEventMessage(payload: Uint8Array): CloudEventRecord {
  return JSON.parse(new TextDecoder().decode(payload)) as CloudEventRecord;
}
