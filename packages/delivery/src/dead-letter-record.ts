import { type DeadLetterRecord, deadLetterId } from '@fuze/core';
import type { Delivery } from './delivery.js';
import type { FailureDescription } from './errors.js';

/** The dead-letter record of a delivery the retry policy gave up on (or that cannot be retried). */
export function buildDeadLetterRecord(
  delivery: Delivery,
  failure: FailureDescription,
  now: number,
): DeadLetterRecord {
  const { envelope } = delivery;
  const target = envelope.target || delivery.target;
  const event = { source: envelope.attributes.source ?? '', id: envelope.attributes.id ?? '' };
  const firstAttemptAt = delivery.firstAttemptAt ?? now;
  const record: DeadLetterRecord = {
    id: deadLetterId(event, envelope.rule, target, envelope.replay?.jobId),
    bus: envelope.bus,
    rule: envelope.rule,
    target,
    attributes: envelope.attributes,
    body: Buffer.from(envelope.body).toString('base64'),
    contentType: envelope.contentType,
    acceptedAt: envelope.acceptedAt,
    failure: {
      stage: 'deliver',
      attempts: delivery.attempts,
      firstAttemptAt: new Date(firstAttemptAt).toISOString(),
      lastAttemptAt: new Date(delivery.lastAttemptAt ?? firstAttemptAt).toISOString(),
      errorClass: failure.errorClass,
      message: failure.message,
      retryable: failure.retryable,
      ...(failure.httpStatus !== undefined ? { httpStatus: failure.httpStatus } : {}),
      ...(failure.responseExcerpt !== undefined ? { responseExcerpt: failure.responseExcerpt } : {}),
    },
    deadLetteredAt: new Date(now).toISOString(),
  };
  if (envelope.partitionKey !== undefined) record.partitionKey = envelope.partitionKey;
  if (envelope.eventSeq !== undefined) record.eventSeq = envelope.eventSeq;
  if (envelope.attributes.traceparent) record.traceparent = envelope.attributes.traceparent;
  if (envelope.replay) record.replay = envelope.replay;
  return record;
}
