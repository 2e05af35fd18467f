import type { JetStreamPublisher } from '@fuze/bus';
import type { CloudEventRecord, DeadLetterRecord, DeliveryEnvelope } from '@fuze/core';
import { encodeDeliveryMessage } from '@fuze/core';
import { readStream } from '@fuze/test/harness';
import type { NatsConnection } from '@nats-io/transport-node';

/** The delivery the router would publish for event `<key>-<n>` matched to a consumer target. */
export function delivery(target: string, key: string | undefined, n: number): DeliveryEnvelope {
  const event = {
    specversion: '1.0',
    id: `${key ?? 'nokey'}-${n}`,
    source: '/tests/consumer',
    type: 'com.example.shipped',
    data: { key, n },
  } as CloudEventRecord;
  const { data: _data, ...attributes } = event;
  return {
    attributes: Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, String(v)])),
    body: new TextEncoder().encode(JSON.stringify(event)),
    contentType: 'application/cloudevents+json',
    bus: 'default',
    rule: 'to-app',
    target,
    ...(key === undefined ? {} : { partitionKey: key }),
    acceptedAt: Date.now(),
  };
}

export async function publishDeliveries(
  publisher: JetStreamPublisher,
  prefix: string,
  partitions: number,
  envelopes: DeliveryEnvelope[],
): Promise<void> {
  await Promise.all(
    envelopes.map((envelope) => publisher.publish(encodeDeliveryMessage(prefix, envelope, partitions))),
  );
}

export async function deadLetters(nc: NatsConnection, prefix: string): Promise<DeadLetterRecord[]> {
  return (await readStream(nc, `${prefix}_DLQ`)).map((m) => m.json<DeadLetterRecord>());
}
