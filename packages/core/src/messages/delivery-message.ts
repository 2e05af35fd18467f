import { hash } from 'node:crypto';
import type { CloudEventRecord } from '../cloudevent/cloud-event.js';
import { deliverySubject } from '../naming.js';
import { partitionFor } from '../partition.js';
import type { WireMessage } from './wire-message.js';

/**
 * A matched event on its way to one target: what the router publishes to
 * `<p>.deliver.<target>.<partition>` and what dispatchers and SDK consumers read.
 *
 * The body is exactly what the target receives (the structured CloudEvent for `input: whole`,
 * else the transformer's output). A transformed body's event attributes travel as `ce-*`
 * headers, as in the CloudEvents HTTP binary mode; a whole event carries them in its body, so its
 * message repeats none of them (it halved the message) and readers take them from the body.
 */
export interface DeliveryEnvelope {
  /** The matched event's context attributes and extensions (never `data`), as strings. */
  attributes: Record<string, string>;
  body: Uint8Array;
  /** Content type of `body`: `application/cloudevents+json` when it is the whole event. */
  contentType: string;
  bus: string;
  rule: string;
  target: string;
  /** The ordering key, when the delivery is ordered. */
  partitionKey?: string;
  /** When the bus accepted the event (epoch ms): the start of the delivery-latency clock. */
  acceptedAt: number;
  /** The event's sequence in the events stream (the archive). */
  eventSeq?: number;
  /** Set on deliveries an operator replayed (from the dead-letter stream or the archive). */
  replay?: ReplayMarker;
}

/**
 * Marks a replayed delivery: the replay job, and the dead letter it replays (absent for an archive
 * replay, which routes an event of the events stream again).
 */
export interface ReplayMarker {
  jobId: string;
  deadLetterId?: string;
}

export const deliveryHeaders = {
  bus: 'Fuze-Bus',
  rule: 'Fuze-Rule',
  target: 'Fuze-Target',
  partitionKey: 'Fuze-Partition-Key',
  contentType: 'Fuze-Content-Type',
  acceptedAt: 'Fuze-Accepted-At',
  eventSeq: 'Fuze-Event-Seq',
  replayJob: 'Fuze-Replay-Job',
  replayOf: 'Fuze-Replay-Of',
} as const;

export const cloudEventsJson = 'application/cloudevents+json';
const attributePrefix = 'ce-';

/** A header map as both nats.js `MsgHdrs` and plain objects can provide it. */
export interface HeaderReader {
  get(name: string): string;
  keys(): string[];
}

/** The `Nats-Msg-Id` of a delivery: one per event, rule and target (and replay job). */
export function deliveryMessageId(
  event: { source: string; id: string },
  rule: string,
  target: string,
  replayJob?: string,
): string {
  // One-shot hash over the same bytes the streaming form hashed: the ids never change.
  let identity = `${event.source}\u0000${event.id}\u0000${rule}\u0000${target}`;
  if (replayJob) identity += `\u0000${replayJob}`;
  return hash('sha256', identity, 'base64url').slice(0, 32);
}

/** The string attributes of an event (everything but data), as binary mode carries them. */
export function eventAttributes(event: CloudEventRecord): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(event)) {
    if (name === 'data' || name === 'data_base64' || value === undefined || value === null) continue;
    attributes[name] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return attributes;
}

export function encodeDeliveryHeaders(envelope: DeliveryEnvelope): Record<string, string> {
  const headers: Record<string, string> = {
    [deliveryHeaders.bus]: envelope.bus,
    [deliveryHeaders.rule]: envelope.rule,
    [deliveryHeaders.target]: envelope.target,
    [deliveryHeaders.contentType]: envelope.contentType,
    [deliveryHeaders.acceptedAt]: String(envelope.acceptedAt),
  };
  if (envelope.eventSeq !== undefined) headers[deliveryHeaders.eventSeq] = String(envelope.eventSeq);
  if (envelope.partitionKey !== undefined)
    headers[deliveryHeaders.partitionKey] = encodeURIComponent(envelope.partitionKey);
  if (envelope.replay) {
    headers[deliveryHeaders.replayJob] = envelope.replay.jobId;
    if (envelope.replay.deadLetterId !== undefined)
      headers[deliveryHeaders.replayOf] = envelope.replay.deadLetterId;
  }
  if (envelope.contentType !== cloudEventsJson) {
    for (const [name, value] of Object.entries(envelope.attributes)) {
      headers[attributePrefix + name] = encodeURIComponent(value);
    }
  }
  // Trace context also travels under its W3C names so any consumer can continue the trace.
  if (envelope.attributes.traceparent) headers.traceparent = envelope.attributes.traceparent;
  if (envelope.attributes.tracestate) headers.tracestate = envelope.attributes.tracestate;
  return headers;
}

export function decodeDeliveryMessage(headers: HeaderReader, body: Uint8Array): DeliveryEnvelope {
  const attributes: Record<string, string> = {};
  for (const name of headers.keys()) {
    const lower = name.toLowerCase();
    if (lower.startsWith(attributePrefix))
      attributes[lower.slice(attributePrefix.length)] = decodeURIComponent(headers.get(name));
  }
  const partitionKey = headers.get(deliveryHeaders.partitionKey);
  const replayJob = headers.get(deliveryHeaders.replayJob);
  const replayOf = headers.get(deliveryHeaders.replayOf);
  const eventSeq = Number(headers.get(deliveryHeaders.eventSeq));
  const contentType = headers.get(deliveryHeaders.contentType) || cloudEventsJson;
  const envelope: DeliveryEnvelope = {
    attributes,
    body,
    contentType,
    bus: headers.get(deliveryHeaders.bus),
    rule: headers.get(deliveryHeaders.rule),
    target: headers.get(deliveryHeaders.target),
    ...(partitionKey ? { partitionKey: decodeURIComponent(partitionKey) } : {}),
    acceptedAt: Number(headers.get(deliveryHeaders.acceptedAt)) || 0,
    ...(eventSeq > 0 ? { eventSeq } : {}),
    ...(replayJob
      ? { replay: replayOf ? { jobId: replayJob, deadLetterId: replayOf } : { jobId: replayJob } }
      : {}),
  };
  if (contentType === cloudEventsJson && Object.keys(attributes).length === 0) {
    // A whole event: its attributes are read from the body when (and only if) someone asks.
    let parsed: Record<string, string> | undefined;
    Object.defineProperty(envelope, 'attributes', {
      enumerable: true,
      get: () => {
        parsed ??= attributesOfStoredEvent(body);
        return parsed;
      },
    });
  }
  return envelope;
}

function attributesOfStoredEvent(body: Uint8Array): Record<string, string> {
  try {
    return eventAttributes(JSON.parse(new TextDecoder().decode(body)) as CloudEventRecord);
  } catch {
    return {};
  }
}

/**
 * The CloudEvent a consumer sees: the stored event for whole-event deliveries; otherwise the
 * event's attributes with the transformed body as `data` (JSON when it is JSON).
 */
export function deliveredCloudEvent(envelope: DeliveryEnvelope): CloudEventRecord {
  const text = new TextDecoder().decode(envelope.body);
  if (envelope.contentType === cloudEventsJson) return JSON.parse(text) as CloudEventRecord;
  const event = {
    ...envelope.attributes,
    datacontenttype: envelope.contentType,
  } as unknown as CloudEventRecord;
  event.data = /json/.test(envelope.contentType) ? JSON.parse(text) : text;
  return event;
}

/**
 * The delivery-stream message for an envelope, as the router and a DLQ replay publish it: the
 * key's partition of the target (of `partitions`), or `unordered` without a key; a Nats-Msg-Id per
 * event, rule, target (and replay job), so a re-sent delivery is deduplicated; and an ordering key,
 * so the publisher never stores one key's deliveries out of order.
 */
export function encodeDeliveryMessage(
  prefix: string,
  envelope: DeliveryEnvelope,
  partitions: number,
): WireMessage & { headers: Record<string, string> } {
  const event = { source: envelope.attributes.source ?? '', id: envelope.attributes.id ?? '' };
  const key = envelope.partitionKey;
  const subject = deliverySubject(
    prefix,
    envelope.target,
    key === undefined ? 'unordered' : partitionFor(key, partitions),
  );
  return {
    subject,
    payload: envelope.body,
    msgId: deliveryMessageId(event, envelope.rule, envelope.target, envelope.replay?.jobId),
    headers: encodeDeliveryHeaders(envelope),
    // One key's deliveries are stored in the order they were routed.
    ...(key === undefined ? {} : { orderingKey: `${subject} ${key}` }),
  };
}
