import type { CloudEventRecord } from '@fuze/core';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';

export async function connectTo(url: string): Promise<NatsConnection> {
  return connect({ servers: url, noAsyncTraces: true });
}

export interface StoredEvent {
  subject: string;
  msgId: string | undefined;
  event: CloudEventRecord;
}

/** Every message of `<prefix>_EVENTS`, in stream order, through an ordered consumer. */
export async function readEvents(nc: NatsConnection, prefix: string): Promise<StoredEvent[]> {
  const stream = `${prefix}_EVENTS`;
  const jsm = await jetstreamManager(nc);
  const { state } = await jsm.streams.info(stream);
  const stored: StoredEvent[] = [];
  if (state.messages === 0) return stored;
  const consumer = await jetstream(nc).consumers.get(stream);
  const messages = await consumer.consume();
  for await (const m of messages) {
    stored.push({
      subject: m.subject,
      msgId: m.headers?.get('Nats-Msg-Id'),
      event: m.json<CloudEventRecord>(),
    });
    if (m.seq >= state.last_seq) break;
  }
  await messages.close();
  return stored;
}
