import type { JetStreamPublisher } from '@fuze/bus';
import { dlqSubject } from '@fuze/core';
import type { DeadLetterSink } from './dead-letter-middleware.js';

const encoder = new TextEncoder();

/**
 * Dead-letter records go to `<p>.dlq.<target>` (the `<P>_DLQ` stream) as JSON, with the record id
 * as Nats-Msg-Id so storing the same record twice keeps one copy.
 */
export function jetStreamDeadLetterSink(publisher: JetStreamPublisher, streamPrefix: string): DeadLetterSink {
  return async (record) => {
    await publisher.publish({
      subject: dlqSubject(streamPrefix, record.target),
      payload: encoder.encode(JSON.stringify(record)),
      msgId: record.id,
      headers: { 'Content-Type': 'application/json', 'Fuze-Target': record.target, 'Fuze-Rule': record.rule },
    });
  };
}
