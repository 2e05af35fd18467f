import { ensureTopology, type JetStreamPublisher } from '@fuze/bus';
import {
  type CloudEventRecord,
  createLogger,
  type DeadLetterRecord,
  type DeliveryEnvelope,
  encodeDeliveryMessage,
  loadConfig,
} from '@fuze/core';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { readStream } from './stream-contents.js';

let prefixes = 0;

/** A unique FUZE_STREAM_PREFIX (`<tag><pid>_<n>`) with its streams provisioned, as `fuze serve` would. */
export async function provisionStreams(nc: NatsConnection, tag = 'T'): Promise<string> {
  const prefix = `${tag}${process.pid}_${++prefixes}`;
  const config = loadConfig({ FUZE_STREAM_PREFIX: prefix });
  await ensureTopology(await jetstreamManager(nc), config.streams, createLogger('silent'));
  return prefix;
}

export interface DeliveryInput {
  target: string;
  /** The partition key; none: the delivery is unordered. */
  key?: string;
  /** The event is `<key>-<n>` (`nokey-<n>` without a key), its data `{ key, n }`. */
  n: number;
  /** Default `test-rule`. */
  rule?: string;
  /** Attributes over the defaults (source `/tests/deliveries`, type `com.example.test`). */
  event?: Partial<CloudEventRecord>;
  envelope?: Partial<DeliveryEnvelope>;
}

/** The delivery the router would publish for event `<key>-<n>` matched to `target`. */
export function deliveryEnvelope(input: DeliveryInput): DeliveryEnvelope {
  const event = {
    specversion: '1.0',
    id: `${input.key ?? 'nokey'}-${input.n}`,
    source: '/tests/deliveries',
    type: 'com.example.test',
    datacontenttype: 'application/json',
    data: { key: input.key, n: input.n },
    ...input.event,
  } as CloudEventRecord;
  const { data: _data, ...attributes } = event;
  return {
    attributes: Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, String(v)])),
    body: new TextEncoder().encode(JSON.stringify(event)),
    contentType: 'application/cloudevents+json',
    bus: 'default',
    rule: input.rule ?? 'test-rule',
    target: input.target,
    ...(input.key === undefined ? {} : { partitionKey: input.key }),
    acceptedAt: Date.now(),
    ...input.envelope,
  };
}

/** Events `<key>-1..perKey` of each key, interleaved across keys as a bus would see them. */
export function interleavedDeliveries(target: string, keys: string[], perKey: number): DeliveryEnvelope[] {
  const envelopes: DeliveryEnvelope[] = [];
  for (let n = 1; n <= perKey; n++)
    for (const key of keys) envelopes.push(deliveryEnvelope({ target, key, n }));
  return envelopes;
}

/** Publishes deliveries as the router does: to the key's partition, or `unordered` without a key. */
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

/** Every record of `<prefix>_DLQ`, in stream order. */
export async function readDeadLetters(nc: NatsConnection, prefix: string): Promise<DeadLetterRecord[]> {
  return (await readStream(nc, `${prefix}_DLQ`)).map((m) => m.json<DeadLetterRecord>());
}
