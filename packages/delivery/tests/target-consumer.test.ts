import { JetStreamPublisher } from '@fuze/bus';
import {
  deliveryEnvelope,
  freezeEventLoop,
  interleavedDeliveries,
  type NatsServerHandle,
  provisionStreams,
  publishDeliveries,
  readDeadLetters,
  startNatsServer,
  waitFor,
} from '@fuze/test/harness';
import { jetstreamManager } from '@nats-io/jetstream';
import { type NatsConnection, nanos } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type Delivery, NonRetryableError } from '../src/index.js';
import { connectTo, Receiver, startWorker } from './delivery-fixture.js';

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

function eventOf(delivery: Delivery): { key: string; n: number } {
  const event = JSON.parse(new TextDecoder().decode(delivery.envelope.body)) as {
    data: { key: string; n: number };
  };
  return event.data;
}

describe('TargetConsumer', () => {
  test('keeps per-key order across random failures and members joining and leaving', async () => {
    const prefix = await provisionStreams(nc);
    const keys = Array.from({ length: 40 }, (_, i) => `k${i}`);
    const perKey = 25;
    const receiver = new Receiver();
    const handler = async (delivery: Delivery) => {
      if (Math.random() < 0.1) throw new Error('flaky target');
      const { key, n } = eventOf(delivery);
      receiver.record(key, n);
    };
    const options = { target: 'orders', partitions: 8, handler };
    const first = await startWorker(server.url, prefix, options);
    await publishDeliveries(publisher, prefix, 8, interleavedDeliveries('orders', keys, perKey));
    const second = await startWorker(server.url, prefix, options);
    await waitFor(() => receiver.total > 300, { timeoutMs: 20_000, message: 'some deliveries' });
    await first.stop();
    const third = await startWorker(server.url, prefix, options);
    await waitFor(() => receiver.checkOrder(keys, perKey).complete, {
      timeoutMs: 30_000,
      message: 'every event delivered',
    });
    const result = receiver.checkOrder(keys, perKey);
    console.info(`members joining/leaving: ${receiver.total} deliveries, ${result.duplicates} duplicates`);
    expect(result.outOfOrder).toEqual([]);
    await Promise.all([second.stop(), third.stop()]);
  });

  test('a delivery stored again under a new sequence (re-routed after a nats-server restart, past the dedupe) is acked, not delivered twice', async () => {
    const prefix = await provisionStreams(nc);
    const jsm = await jetstreamManager(nc);
    const arrivals: string[] = [];
    const worker = await startWorker(server.url, prefix, {
      target: 'once',
      partitions: 1,
      handler: async (delivery) => {
        const { key, n } = eventOf(delivery);
        arrivals.push(`${key}-${n}`);
      },
    });
    // The worker read the configured window (2 min); now the server's dedupe runs out at once: the
    // same delivery published again is stored again, as when a restarted 2.9 server no longer
    // holds a consumed work-queue message to dedupe against.
    await jsm.streams.update(`${prefix}_DELIVERY`, { duplicate_window: nanos(100) });
    const first = deliveryEnvelope({ target: 'once', key: 'k', n: 1 });
    await publishDeliveries(publisher, prefix, 1, [first]);
    await waitFor(() => arrivals.length === 1, { timeoutMs: 10_000, message: 'the first delivery' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Re-routed: the same delivery again, then the key's next event.
    await publishDeliveries(publisher, prefix, 1, [
      first,
      deliveryEnvelope({ target: 'once', key: 'k', n: 2 }),
    ]);
    await waitFor(() => arrivals.includes('k-2'), { timeoutMs: 10_000, message: 'the next event' });
    await waitFor(async () => (await jsm.streams.info(`${prefix}_DELIVERY`)).state.messages === 0, {
      timeoutMs: 10_000,
      message: 'every delivery acked',
    });
    expect(arrivals).toEqual(['k-1', 'k-2']);
    await worker.stop();
  });

  test('a key that keeps failing holds back only itself; the rest of its partition flows', async () => {
    const prefix = await provisionStreams(nc);
    const keys = ['stuck', 'a', 'b', 'c', 'd'];
    const perKey = 20;
    const receiver = new Receiver();
    let stuckFails = true;
    let stuckAttempts = 0;
    const worker = await startWorker(server.url, prefix, {
      target: 'one-partition',
      partitions: 1,
      handler: async (delivery) => {
        const { key, n } = eventOf(delivery);
        if (key === 'stuck' && stuckFails) {
          stuckAttempts += 1;
          throw new Error('target rejects this key for now');
        }
        receiver.record(key, n);
      },
    });
    await publishDeliveries(publisher, prefix, 1, interleavedDeliveries('one-partition', keys, perKey));
    const others = keys.filter((k) => k !== 'stuck');
    // Both, not one after the other: the other keys can finish before the stuck key's first retry.
    await waitFor(() => stuckAttempts > 1 && receiver.checkOrder(others, perKey).complete, {
      timeoutMs: 20_000,
      message: 'the other keys of the partition, while the stuck key is retried',
    });
    expect(receiver.byKey.get('stuck')).toBeUndefined();
    stuckFails = false;
    await waitFor(() => receiver.checkOrder(['stuck'], perKey).complete, {
      timeoutMs: 20_000,
      message: 'the stuck key once the target recovers',
    });
    expect(receiver.checkOrder(keys, perKey).outOfOrder).toEqual([]);
    await worker.stop();
  });

  test('dead-letters non-retryable failures at once and exhausted ones after maxAttempts, then moves on', async () => {
    const prefix = await provisionStreams(nc);
    const receiver = new Receiver();
    const worker = await startWorker(server.url, prefix, {
      target: 'picky',
      partitions: 4,
      retry: { maxAttempts: 3, backoff: 'fixed', initialDelayMs: 5, maxDelayMs: 5, maxAgeMs: 3_600_000 },
      handler: async (delivery) => {
        const { key, n } = eventOf(delivery);
        if (key === 'bad' && n === 1) throw new NonRetryableError('payload refused');
        if (key === 'flaky' && n === 1) throw new Error('always down for this one');
        receiver.record(key, n);
      },
    });
    await publishDeliveries(publisher, prefix, 4, interleavedDeliveries('picky', ['bad', 'flaky'], 3));
    await waitFor(() => receiver.total === 4, { message: 'events after the dead-lettered ones' });
    expect(receiver.byKey.get('bad')).toEqual([2, 3]);
    expect(receiver.byKey.get('flaky')).toEqual([2, 3]);
    const records = await waitFor(async () => {
      const found = await readDeadLetters(nc, prefix);
      return found.length === 2 ? found : undefined;
    });
    const bad = records.find((r) => r.attributes.id === 'bad-1')!;
    expect(bad.failure).toMatchObject({ attempts: 1, retryable: false, errorClass: 'NonRetryableError' });
    expect(bad.failure.message).toBe('payload refused');
    const flaky = records.find((r) => r.attributes.id === 'flaky-1')!;
    expect(flaky.failure).toMatchObject({
      attempts: 3,
      retryable: true,
      errorClass: 'Error',
      stage: 'deliver',
    });
    expect(Date.parse(flaky.failure.lastAttemptAt)).toBeGreaterThanOrEqual(
      Date.parse(flaky.failure.firstAttemptAt),
    );
    expect(flaky).toMatchObject({
      target: 'picky',
      rule: 'test-rule',
      bus: 'default',
      partitionKey: 'flaky',
    });
    await worker.stop();
  });

  test('a message that cannot be decoded is dead-lettered as is, never handed to the handler', async () => {
    const prefix = await provisionStreams(nc);
    const handled: string[] = [];
    const worker = await startWorker(server.url, prefix, {
      target: 'garbled',
      partitions: 2,
      handler: async (delivery) => void handled.push(delivery.envelope.attributes.id!),
    });
    await publisher.publish({
      subject: `${prefix.toLowerCase()}.deliver.garbled.0`,
      payload: new TextEncoder().encode('not what the router writes'),
      msgId: 'garbled-1',
      headers: { 'Fuze-Target': 'garbled', 'ce-id': '%E0%A4%A' },
    });
    await publishDeliveries(publisher, prefix, 2, [
      deliveryEnvelope({ target: 'garbled', key: 'fine', n: 1 }),
    ]);
    const [record] = await waitFor(async () => {
      const found = await readDeadLetters(nc, prefix);
      return found.length > 0 ? found : undefined;
    });
    expect(record!.failure).toMatchObject({ errorClass: 'NonRetryableError', retryable: false, attempts: 1 });
    expect(record!.failure.message).toMatch(/malformed delivery/);
    expect(Buffer.from(record!.body, 'base64').toString()).toBe('not what the router writes');
    await waitFor(() => handled.includes('fine-1'));
    expect(handled).toEqual(['fine-1']);
    await worker.stop();
  });

  test('deliveries without a key go to the shared unordered consumer of every worker', async () => {
    const prefix = await provisionStreams(nc);
    const seenBy = new Map<string, Set<number>>();
    const handlerFor = (member: number) => async (delivery: Delivery) => {
      const id = delivery.envelope.attributes.id!;
      const members = seenBy.get(id) ?? new Set();
      members.add(member);
      seenBy.set(id, members);
      await new Promise((resolve) => setTimeout(resolve, 2));
    };
    const a = await startWorker(server.url, prefix, {
      target: 'fanout',
      partitions: 4,
      handler: handlerFor(1),
    });
    const b = await startWorker(server.url, prefix, {
      target: 'fanout',
      partitions: 4,
      handler: handlerFor(2),
    });
    const envelopes = Array.from({ length: 400 }, (_, i) => deliveryEnvelope({ target: 'fanout', n: i + 1 }));
    await publishDeliveries(publisher, prefix, 4, envelopes);
    await waitFor(() => seenBy.size === 400, { message: 'every unordered delivery' });
    await Promise.all([a.stop(), b.stop()]);
    // Both workers consumed from the one shared consumer: each took part of the 400.
    const handledBy = (member: number) =>
      [...seenBy.values()].filter((members) => members.has(member)).length;
    expect(handledBy(1)).toBeGreaterThan(0);
    expect(handledBy(2)).toBeGreaterThan(0);
    expect(handledBy(1) + handledBy(2)).toBeGreaterThanOrEqual(400);
  });

  test('a worker frozen past its lease acks nothing it finished while frozen: the delivery comes again, in order', async () => {
    const prefix = await provisionStreams(nc);
    const seen: number[] = [];
    const handler = async (delivery: Delivery) => {
      const { n } = eventOf(delivery);
      seen.push(n);
      // The first attempt of event 1 stalls the whole process past 3/4 of the lease TTL (1.5 s),
      // as a SIGSTOP or a starved event loop would.
      if (n === 1 && seen.length === 1) freezeEventLoop(1_300);
    };
    const worker = await startWorker(server.url, prefix, { target: 'frozen', partitions: 1, handler });
    await publishDeliveries(
      publisher,
      prefix,
      1,
      [1, 2, 3].map((n) => deliveryEnvelope({ target: 'frozen', key: 'a', n: n })),
    );
    await waitFor(() => seen.includes(3), { timeoutMs: 20_000, message: 'events 1-3 delivered' });
    // Event 1 was done, but its ack was fenced: it came again before 2, and 2 waited for it.
    expect(seen).toEqual([1, 1, 2, 3]);
    await worker.stop();
  });
});
