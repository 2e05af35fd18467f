import { type Clock, type DeadLetterRecord, dlqSubject, type Logger, systemClock } from '@fuze/core';
import {
  deadLetterSpan,
  endSpan,
  formatTraceparent,
  type Span,
  traceLogFields,
  tracingActive,
} from '@fuze/telemetry';
import { buildDeadLetterRecord } from './dead-letter-record.js';
import type { Delivery, DeliveryMiddleware } from './delivery.js';
import { type DeliveryMetrics, uncountedDeliveries } from './delivery-metrics.js';
import { DeliveryAbortedError, describeFailure, isDeliveryAborted } from './errors.js';

const lostLeaseMessage =
  "dead letter not stored: this worker can no longer confirm the partition's lease; its next owner retries the delivery";

/** Stores a dead-letter record durably (resolves once stored; may be called again with the same record). */
export type DeadLetterSink = (record: DeadLetterRecord) => Promise<void>;

export interface DeadLetterOptions {
  sink: DeadLetterSink;
  logger: Logger;
  clock?: Clock;
  /** Pause between two attempts to store a record (e.g. while NATS is down); default 1 s. */
  storeRetryDelayMs?: number;
  /** FUZE_STREAM_PREFIX: names the dead-letter subject on the `publish fuze.dlq` span. */
  streamPrefix?: string;
  /** Counts each stored record; default: not counted. */
  metrics?: DeliveryMetrics;
}

/**
 * The poison queue: a failure that leaves the retry middleware is final, so this turns it into
 * a dead-letter record, stores it (retrying until it is stored or the worker stops) and then
 * resolves, which lets the worker ack the delivery. Only stored-then-acked: a crash in between
 * dead-letters it again under the same id, which JetStream deduplicates.
 */
export function deadLetterMiddleware(options: DeadLetterOptions): DeliveryMiddleware {
  const clock = options.clock ?? systemClock;
  const pause = options.storeRetryDelayMs ?? 1_000;
  const prefix = options.streamPrefix;
  const metrics = options.metrics ?? uncountedDeliveries;
  return (next) => async (delivery) => {
    try {
      await next(delivery);
      return;
    } catch (err) {
      if (isDeliveryAborted(err) || delivery.signal.aborted) throw new DeliveryAbortedError();
      const failure = describeFailure(err);
      const record = buildDeadLetterRecord(delivery, failure, clock.now());
      const span = deadLetterTrace(delivery, record, prefix);
      for (;;) {
        if (!delivery.fence.maySettle()) {
          if (span) endSpan(span, new Error('lease lost'));
          throw new DeliveryAbortedError(lostLeaseMessage);
        }
        try {
          await options.sink(record);
          break;
        } catch (storeErr) {
          if (delivery.signal.aborted) {
            if (span) endSpan(span, storeErr);
            throw new DeliveryAbortedError();
          }
          options.logger.warn(
            { err: storeErr, target: record.target, deadLetterId: record.id },
            'could not store a dead-letter record; retrying',
          );
          if (!(await clock.sleep(pause, delivery.signal))) throw new DeliveryAbortedError();
        }
      }
      if (span) endSpan(span);
      delivery.deadLettered = { error: err };
      metrics.deadLettered(record.target);
      options.logger.warn(
        {
          ...(span ? traceLogFields(span) : {}),
          rule: record.rule,
          eventId: record.attributes.id,
          deadLetterId: record.id,
          attempts: record.failure.attempts,
          errorClass: record.failure.errorClass,
          httpStatus: record.failure.httpStatus,
        },
        `dead-lettered: ${record.failure.message}`,
      );
    }
  };
}

/**
 * While tracing is on and the delivery has a `process fuze.deliver` span: a `publish fuze.dlq` span
 * (its child) whose context becomes the record's `traceparent`, so a replay links to it. Without
 * tracing, the record keeps the delivery's `traceparent` header, else the event's.
 */
function deadLetterTrace(
  delivery: Delivery,
  record: DeadLetterRecord,
  prefix: string | undefined,
): Span | undefined {
  if (!delivery.trace || !tracingActive()) {
    const header = delivery.headers?.get('traceparent');
    if (header) record.traceparent = header;
    return undefined;
  }
  const span = deadLetterSpan(
    prefix === undefined ? undefined : dlqSubject(prefix, record.target),
    record.attributes,
    {
      target: record.target,
      ...(record.rule ? { rule: record.rule } : {}),
      stage: 'deliver',
      errorClass: record.failure.errorClass,
    },
    { parent: delivery.trace.context },
  );
  record.traceparent = formatTraceparent(span.spanContext());
  return span;
}
