import { ensureTopology, JetStreamPublisher, openLeaseBucket } from '@fuze/bus';
import {
  type CloudEventRecord,
  createLogger,
  type DeadLetterRecord,
  type DeliveryEnvelope,
  encodeDeliveryMessage,
  loadConfig,
} from '@fuze/core';
import type { RetryPolicy } from '@fuze/rules';
import { readStream } from '@fuze/test/harness';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  type DeliveryHandler,
  jetStreamDeadLetterSink,
  TargetConsumer,
  type TargetConsumerOptions,
} from '../src/index.js';

export const silent = createLogger('silent');
let prefixes = 0;

/** A unique FUZE_STREAM_PREFIX with its streams provisioned, as `fuze serve` would. */
export async function provisionStreams(nc: NatsConnection, tag = 'DLV'): Promise<string> {
  const prefix = `${tag}${process.pid}_${++prefixes}`;
  const config = loadConfig({ FUZE_STREAM_PREFIX: prefix });
  await ensureTopology(await jetstreamManager(nc), config.streams, silent);
  return prefix;
}

export function connectTo(url: string): Promise<NatsConnection> {
  return connect({ servers: url, noAsyncTraces: true, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
}

/** The n-th event of `key` (n from 1) as the router would hand it to `target`. */
export function envelopeFor(
  target: string,
  key: string | undefined,
  n: number,
  extra: Partial<DeliveryEnvelope> = {},
): DeliveryEnvelope {
  const event: CloudEventRecord = {
    specversion: '1.0',
    id: `${key ?? 'nokey'}-${n}`,
    source: '/tests/delivery',
    type: 'com.example.test',
    data: { key, n },
  } as CloudEventRecord;
  const { data: _data, ...attributes } = event;
  return {
    attributes: Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, String(v)])),
    body: new TextEncoder().encode(JSON.stringify(event)),
    contentType: 'application/cloudevents+json',
    bus: 'default',
    rule: 'test-rule',
    target,
    ...(key === undefined ? {} : { partitionKey: key }),
    acceptedAt: Date.now(),
    ...extra,
  };
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

/** Events in `key-n` form, `perKey` per key, interleaved across keys as a bus would see them. */
export function interleaved(target: string, keys: string[], perKey: number): DeliveryEnvelope[] {
  const envelopes: DeliveryEnvelope[] = [];
  for (let n = 1; n <= perKey; n++) for (const key of keys) envelopes.push(envelopeFor(target, key, n));
  return envelopes;
}

export const fastRetry: RetryPolicy = {
  maxAttempts: 50,
  backoff: 'exponential',
  initialDelayMs: 5,
  maxDelayMs: 50,
  maxAgeMs: 3_600_000,
};

/** A worker process in miniature: its own connection, lease bucket, DLQ publisher and TargetConsumer. */
export async function startWorker(
  url: string,
  prefix: string,
  options: Pick<TargetConsumerOptions, 'target' | 'partitions' | 'handler'> &
    Partial<Omit<TargetConsumerOptions, 'target' | 'partitions' | 'handler'>> & { retry?: RetryPolicy },
) {
  const nc = await connectTo(url);
  const publisher = new JetStreamPublisher(nc);
  const consumer = new TargetConsumer({
    nc,
    streamPrefix: prefix,
    deliveryStream: `${prefix}_DELIVERY`,
    retryPolicy: () => options.retry ?? fastRetry,
    deadLetters: jetStreamDeadLetterSink(publisher, prefix),
    leaseBucket: await openLeaseBucket(nc, prefix, 1_500),
    logger: silent,
    ...options,
    tuning: { leaseTtlMs: 1_500, ...options.tuning },
  });
  await consumer.start();
  return {
    nc,
    consumer,
    async stop() {
      await consumer.stop();
      await publisher.close();
      await nc.close();
    },
  };
}

export async function deadLetters(nc: NatsConnection, prefix: string): Promise<DeadLetterRecord[]> {
  return (await readStream(nc, `${prefix}_DLQ`)).map((m) => m.json<DeadLetterRecord>());
}

/** Per key, the event numbers in arrival order. */
export class Receiver {
  readonly byKey = new Map<string, number[]>();
  total = 0;

  record(key: string, n: number): void {
    this.total += 1;
    const list = this.byKey.get(key) ?? [];
    list.push(n);
    this.byKey.set(key, list);
  }

  /** Keys whose first arrivals are exactly 1..perKey in order (duplicates of delivered ones ignored). */
  checkOrder(
    keys: string[],
    perKey: number,
  ): { complete: boolean; outOfOrder: string[]; duplicates: number } {
    const outOfOrder: string[] = [];
    let complete = true;
    let duplicates = 0;
    for (const key of keys) {
      const seen = new Set<number>();
      const firsts: number[] = [];
      for (const n of this.byKey.get(key) ?? []) {
        if (seen.has(n)) duplicates += 1;
        else {
          seen.add(n);
          firsts.push(n);
        }
      }
      if (firsts.length !== perKey) complete = false;
      if (firsts.some((n, i) => n !== i + 1)) outOfOrder.push(key);
    }
    return { complete, outOfOrder, duplicates };
  }
}

export type { DeliveryHandler };
