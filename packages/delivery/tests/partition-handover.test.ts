import { JetStreamPublisher } from '@fuze/bus';
import {
  interleavedDeliveries,
  type NatsServerHandle,
  provisionStreams,
  publishDeliveries,
  startNatsServer,
  waitFor,
} from '@fuze/test/harness';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { deliveryConsumerName, openPartitionConsumer } from '../src/delivery-consumers.js';
import { type Delivery, defaultDeliveryTuning } from '../src/index.js';
import { connectTo, startWorker } from './delivery-fixture.js';

let server: NatsServerHandle;
let nc: NatsConnection;
let publisher: JetStreamPublisher;

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectTo(server.url);
  publisher = new JetStreamPublisher(nc);
});
afterAll(async () => {
  await publisher?.close();
  await nc?.close();
  await server?.[Symbol.asyncDispose]();
});

/**
 * A partition's durable outlives its owners: what one owner acked stays acked, and what it left
 * unacked comes to the next owner first, lowest stream sequence first, without waiting for the
 * ack wait (an hour here) to run out.
 */
test('a new owner gets what the last one left unacked first, in stream order, and nothing it acked', async () => {
  const prefix = await provisionStreams(nc);
  const target = 'handover';
  await publishDeliveries(publisher, prefix, 1, interleavedDeliveries(target, ['a', 'b', 'c'], 4)); // seq 1..12
  const tuning = { ...defaultDeliveryTuning, ackWaitMs: 3_600_000 };
  const spec = { stream: `${prefix}_DELIVERY`, prefix, target, partition: 0, tuning };

  // The previous owner: takes the first 8, acks 2, 5 and 7 (out of order, as keys finish), dies.
  const jsm = await jetstreamManager(nc);
  await openPartitionConsumer(nc, jsm, spec);
  const previous = await jetstream(nc).consumers.get(spec.stream, deliveryConsumerName(prefix, target, 0));
  const taken = [];
  for await (const msg of await previous.fetch({ max_messages: 8, expires: 5_000 })) {
    taken.push(msg.seq);
    if ([2, 5, 7].includes(msg.seq)) await msg.ackAck();
  }
  expect(taken).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);

  const seen: number[] = [];
  const worker = await startWorker(server.url, prefix, {
    target,
    partitions: 1,
    tuning: { ackWaitMs: tuning.ackWaitMs },
    handler: async (delivery: Delivery) => {
      seen.push(delivery.streamSeq);
    },
  });
  await waitFor(() => seen.length >= 9, { timeoutMs: 30_000, message: 'the unacked and the new deliveries' });
  await new Promise((r) => setTimeout(r, 300)); // anything extra would come now
  await worker.stop();
  // Keys run in parallel, so compare each key's sequence (a: 1 4 7 10, b: 2 5 8 11, c: 3 6 9 12).
  const ofKey = (first: number) => seen.filter((seq) => seq % 3 === first % 3);
  expect(ofKey(1)).toEqual([1, 4, 10]);
  expect(ofKey(2)).toEqual([8, 11]);
  expect(ofKey(3)).toEqual([3, 6, 9, 12]);
  expect(seen).toHaveLength(9);
});
