import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';

export interface StoredMessage {
  seq: number;
  subject: string;
  headers: Record<string, string>;
  data: Uint8Array;
  json<T = unknown>(): T;
}

/** Every message currently in `stream`, in sequence order (reads by sequence, no consumer). */
export async function readStream(nc: NatsConnection, stream: string): Promise<StoredMessage[]> {
  const jsm = await jetstreamManager(nc);
  const { state } = await jsm.streams.info(stream);
  const messages: StoredMessage[] = [];
  for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
    if (!m) continue; // deleted or acked out of a work queue
    const headers: Record<string, string> = {};
    for (const key of m.header?.keys() ?? []) headers[key] = m.header!.get(key);
    messages.push({ seq: m.seq, subject: m.subject, headers, data: m.data, json: <T>() => m.json<T>() });
  }
  return messages;
}
