import type { JetStreamPublisher } from '@fuze/bus';
import { encodeDeadLetterMessage } from '@fuze/core';
import type { DeadLetterSink } from './dead-letter-middleware.js';

/** Dead-letter records go to the DLQ stream as @fuze/core's dead-letter message. */
export function jetStreamDeadLetterSink(publisher: JetStreamPublisher, streamPrefix: string): DeadLetterSink {
  return async (record) => {
    await publisher.publish(encodeDeadLetterMessage(streamPrefix, record));
  };
}
