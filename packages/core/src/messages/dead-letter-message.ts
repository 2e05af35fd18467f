import { createHash } from 'node:crypto';
import { dlqSubject } from '../naming.js';
import type { ReplayMarker } from './delivery-message.js';
import type { WireMessage } from './wire-message.js';

/**
 * What goes to `<p>.dlq.<target>` (JSON) when a delivery is given up on, and what the Postgres
 * index rows are built from. The envelope is kept whole so a replay re-sends exactly what failed.
 */
export interface DeadLetterRecord {
  /** Stable per event, rule and target: a retried dead-lettering is deduplicated. */
  id: string;
  bus: string;
  rule: string;
  target: string;
  /** The matched event's attributes (type, source, id, ...), as strings. */
  attributes: Record<string, string>;
  /** What the target was to receive, base64, and its content type. */
  body: string;
  contentType: string;
  partitionKey?: string;
  /** Sequence of the event in the events stream (the archive), when known. */
  eventSeq?: number;
  /** When the bus accepted the event (epoch ms). */
  acceptedAt: number;
  failure: DeliveryFailure;
  /** W3C trace context of the failed delivery, so the DLQ entry links to its trace. */
  traceparent?: string;
  deadLetteredAt: string;
  /** Set when the failed delivery was itself a replay. */
  replay?: ReplayMarker;
}

export interface DeliveryFailure {
  /**
   * `plan`: the router could not plan the event's deliveries at all (target `_router`; a replay
   * routes the event again); `route`: it could not build one target's delivery (e.g. the input
   * transformer); `deliver`: the target failed.
   */
  stage: 'plan' | 'route' | 'deliver';
  attempts: number;
  firstAttemptAt: string;
  lastAttemptAt: string;
  /** e.g. `HttpStatusError`, `TimeoutError`, `ConnectionError`, `NonRetryableError`, `InputTransformError`. */
  errorClass: string;
  message: string;
  retryable: boolean;
  httpStatus?: number;
  /** At most 1 KiB of the response body. */
  responseExcerpt?: string;
}

export function deadLetterId(
  event: { source: string; id: string },
  rule: string,
  target: string,
  replayJob?: string,
): string {
  const hash = createHash('sha256')
    .update('dead-letter\u0000')
    .update(event.source)
    .update('\u0000')
    .update(event.id);
  hash.update('\u0000').update(rule).update('\u0000').update(target);
  if (replayJob) hash.update('\u0000').update(replayJob);
  return hash.digest('base64url').slice(0, 26);
}

export const maxResponseExcerptBytes = 1024;

/**
 * The target of a `plan`-stage dead letter: the router itself, when it could not tell which
 * rules and targets an event goes to. Rule target names cannot start with `_`.
 */
export const routerDeadLetterTarget = '_router';

/**
 * The DLQ-stream message of a record: `<p>.dlq.<target>` (the `<P>_DLQ` stream), JSON, with the
 * record id as Nats-Msg-Id so storing the same record twice keeps one copy. The headers let an
 * operator filter the stream (`nats stream view`) without decoding bodies.
 */
export function encodeDeadLetterMessage(prefix: string, record: DeadLetterRecord): WireMessage {
  return {
    subject: dlqSubject(prefix, record.target),
    payload: Buffer.from(JSON.stringify(record)),
    msgId: record.id,
    headers: { 'Content-Type': 'application/json', 'Fuze-Target': record.target, 'Fuze-Rule': record.rule },
  };
}

/** A DLQ stream message that is not a dead-letter record this version understands. */
export class MalformedDeadLetterError extends Error {
  override readonly name = 'MalformedDeadLetterError';
}

/**
 * Reads and checks a record from the DLQ stream: everything the index stores must be
 * there and well-formed, or the record is reported as malformed (never half-indexed).
 */
export function decodeDeadLetterMessage(data: Uint8Array): DeadLetterRecord {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(data));
  } catch (err) {
    throw new MalformedDeadLetterError(`not JSON: ${(err as Error).message}`);
  }
  const r = object(value, 'record');
  for (const field of ['id', 'bus', 'rule', 'target', 'body', 'contentType'] as const)
    string(r[field], field);
  const attributes = object(r.attributes, 'attributes');
  for (const [name, v] of Object.entries(attributes)) string(v, `attributes.${name}`);
  number(r.acceptedAt, 'acceptedAt');
  time(r.deadLetteredAt, 'deadLetteredAt');
  const f = object(r.failure, 'failure');
  if (f.stage !== 'plan' && f.stage !== 'route' && f.stage !== 'deliver')
    fail('failure.stage', 'plan, route or deliver');
  number(f.attempts, 'failure.attempts');
  time(f.firstAttemptAt, 'failure.firstAttemptAt');
  time(f.lastAttemptAt, 'failure.lastAttemptAt');
  string(f.errorClass, 'failure.errorClass');
  string(f.message, 'failure.message');
  if (f.httpStatus !== undefined) number(f.httpStatus, 'failure.httpStatus');
  if (r.partitionKey !== undefined) string(r.partitionKey, 'partitionKey');
  if (r.eventSeq !== undefined) number(r.eventSeq, 'eventSeq');
  if (r.traceparent !== undefined) string(r.traceparent, 'traceparent');
  if (r.replay !== undefined) {
    const replay = object(r.replay, 'replay');
    string(replay.jobId, 'replay.jobId');
    if (replay.deadLetterId !== undefined) string(replay.deadLetterId, 'replay.deadLetterId');
  }
  return value as DeadLetterRecord;
}

function fail(field: string, expected: string): never {
  throw new MalformedDeadLetterError(`${field}: expected ${expected}`);
}

function object(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(field, 'an object');
  return value as Record<string, unknown>;
}

function string(value: unknown, field: string): void {
  if (typeof value !== 'string') fail(field, 'a string');
}

function number(value: unknown, field: string): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(field, 'a number');
}

function time(value: unknown, field: string): void {
  if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) fail(field, 'an RFC 3339 time');
}
