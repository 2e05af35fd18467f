import type { DeadLetterRecord, Logger } from '@fuze/core';
import { type Clock, systemClock } from './clock.js';
import { buildDeadLetterRecord } from './dead-letter-record.js';
import type { DeliveryMiddleware } from './delivery.js';
import { DeliveryAbortedError, describeFailure, isDeliveryAborted } from './errors.js';

/** Stores a dead-letter record durably (resolves once stored; may be called again with the same record). */
export type DeadLetterSink = (record: DeadLetterRecord) => Promise<void>;

export interface DeadLetterOptions {
  sink: DeadLetterSink;
  logger: Logger;
  clock?: Clock;
  /** Pause between two attempts to store a record (e.g. while NATS is down); default 1 s. */
  storeRetryDelayMs?: number;
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
  return (next) => async (delivery) => {
    try {
      await next(delivery);
      return;
    } catch (err) {
      if (isDeliveryAborted(err) || delivery.signal.aborted) throw new DeliveryAbortedError();
      const failure = describeFailure(err);
      const record = buildDeadLetterRecord(delivery, failure, clock.now());
      for (;;) {
        try {
          await options.sink(record);
          break;
        } catch (storeErr) {
          if (delivery.signal.aborted) throw new DeliveryAbortedError();
          options.logger.warn(
            { err: storeErr, target: record.target, deadLetterId: record.id },
            'could not store a dead-letter record; retrying',
          );
          await clock.sleep(pause, delivery.signal);
        }
      }
      options.logger.warn(
        {
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
