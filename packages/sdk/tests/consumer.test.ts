import { JetStreamPublisher, openRoutingBucket, publishTargetSettings } from '@fuze/bus';
import {
  deliveryEnvelope,
  type NatsServerHandle,
  provisionStreams,
  publishDeliveries,
  readDeadLetters,
  startNatsServer,
  waitFor,
} from '@fuze/test/harness';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  type Consumer,
  createConsumer,
  isFuzeError,
  NonRetryableError,
  RetryAfterError,
} from '../src/index.js';
import { connectTo } from './stream-fixture.js';

let server: NatsServerHandle;
let nc: NatsConnection;
let publisher: JetStreamPublisher;
const consumers: Consumer[] = [];

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connectTo(server.url);
  publisher = new JetStreamPublisher(nc);
});
afterAll(async () => {
  await Promise.all(consumers.map((c) => c.close()));
  await publisher?.close();
  await nc?.close();
  await server?.[Symbol.asyncDispose]();
});

const fast = { maxAttempts: 50, backoff: 'exponential', initialDelayMs: 5, maxDelayMs: 50 } as const;
const tuning = { leaseTtlMs: 1_500 };

function consumerOf(
  target: string,
  prefix: string,
  extra: Partial<Parameters<typeof createConsumer>[0]> = {},
) {
  const consumer = createConsumer({
    target,
    natsUrl: server.url,
    streamPrefix: prefix,
    retry: fast,
    tuning,
    ...extra,
  });
  consumers.push(consumer);
  return consumer;
}

describe('createConsumer', () => {
  test('the rule is the source of truth: its published settings are used, options that disagree refused', async () => {
    const prefix = await provisionStreams(nc);
    // What a router publishes for `consumer` targets when it loads the rules.
    await publishTargetSettings(await openRoutingBucket(nc, prefix), 'ruled', {
      revision: 3,
      partitions: 4,
      retry: { maxAttempts: 2, backoff: 'fixed', initialDelayMs: 5, maxDelayMs: 5, maxAgeMs: 3_600_000 },
      maxConcurrency: 1,
    });
    const refused = await consumerOf('ruled', prefix, { partitions: 8 })
      .handle(async () => {})
      .catch((err: unknown) => err);
    expect(isFuzeError(refused) && refused.code).toBe('FUZE_CONFIG_INVALID');
    expect(String((refused as Error).message)).toContain("partitions=8, the rule's ordering.partitions is 4");
    expect(String((refused as Error).message)).toContain("retry.maxAttempts=50, the rule's is 2");

    let inFlight = 0;
    let mostInFlight = 0;
    const attempts: number[] = [];
    const consumer = createConsumer({ target: 'ruled', natsUrl: server.url, streamPrefix: prefix, tuning });
    consumers.push(consumer);
    await consumer.handle(async (_event, context) => {
      inFlight += 1;
      mostInFlight = Math.max(mostInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 20));
      inFlight -= 1;
      attempts.push(context.attempt);
      throw new Error('always fails');
    });
    await publishDeliveries(
      publisher,
      prefix,
      4,
      ['a', 'b', 'c', 'd'].map((key) => deliveryEnvelope({ target: 'ruled', key, n: 1 })),
    );
    const deadLetters = await waitFor(
      async () => {
        const found = (await readDeadLetters(nc, prefix)).filter((r) => r.target === 'ruled');
        return found.length === 4 ? found : undefined;
      },
      { timeoutMs: 30_000, message: "four dead letters after the rule's 2 attempts" },
    );
    expect(deadLetters.map((r) => r.failure.attempts)).toEqual([2, 2, 2, 2]);
    expect(Math.max(...attempts)).toBe(2);
    // The rule's maxConcurrency: 1, held by the consumer.
    expect(mostInFlight).toBe(1);

    // A rule change (a router publishes it again): later attempts follow it without a restart.
    await publishTargetSettings(await openRoutingBucket(nc, prefix), 'ruled', {
      revision: 4,
      partitions: 4,
      retry: { maxAttempts: 3, backoff: 'fixed', initialDelayMs: 5, maxDelayMs: 5, maxAgeMs: 3_600_000 },
    });
    await new Promise((r) => setTimeout(r, 300));
    await publishDeliveries(publisher, prefix, 4, [deliveryEnvelope({ target: 'ruled', key: 'e', n: 1 })]);
    const later = await waitFor(
      async () => (await readDeadLetters(nc, prefix)).find((r) => r.attributes.id === 'e-1'),
      { timeoutMs: 30_000, message: 'the dead letter under the changed rule' },
    );
    expect(later.failure.attempts).toBe(3);
  });

  test('two consumers share the partitions; per-key order holds while the handler fails at random', async () => {
    const prefix = await provisionStreams(nc);
    const keys = Array.from({ length: 30 }, (_, i) => `k${i}`);
    const perKey = 30;
    const arrivals = new Map<string, number[]>();
    const handler = async (event: { data?: { key: string; n: number } }) => {
      if (Math.random() < 0.1) throw new Error('app hiccup');
      const { key, n } = event.data!;
      arrivals.set(key, [...(arrivals.get(key) ?? []), n]);
    };
    await consumerOf('fulfilment', prefix, { partitions: 8 }).handle(handler);
    await consumerOf('fulfilment', prefix, { partitions: 8 }).handle(handler);
    const envelopes = [];
    for (let n = 1; n <= perKey; n++)
      for (const key of keys) envelopes.push(deliveryEnvelope({ target: 'fulfilment', key, n }));
    await publishDeliveries(publisher, prefix, 8, envelopes);
    await waitFor(() => keys.every((k) => new Set(arrivals.get(k)).size === perKey), {
      timeoutMs: 30_000,
      message: 'every event',
    });
    let duplicates = 0;
    for (const key of keys) {
      const list = arrivals.get(key)!;
      const firsts = [...new Set(list)];
      duplicates += list.length - firsts.length;
      expect(firsts).toEqual(Array.from({ length: perKey }, (_, i) => i + 1));
    }
    console.info(`SDK consumers: ${keys.length * perKey} events in per-key order, ${duplicates} duplicates`);
  });

  test('NonRetryableError dead-letters at once and the key moves on', async () => {
    const prefix = await provisionStreams(nc);
    const handled: string[] = [];
    await consumerOf('strict', prefix).handle(async (event, context) => {
      if (event.id === 'p-1')
        throw new NonRetryableError(`cannot ship ${event.id} (attempt ${context.attempt})`);
      handled.push(String(event.id));
    });
    await publishDeliveries(publisher, prefix, 16, [
      deliveryEnvelope({ target: 'strict', key: 'p', n: 1 }),
      deliveryEnvelope({ target: 'strict', key: 'p', n: 2 }),
    ]);
    await waitFor(() => handled.includes('p-2'));
    const [record] = await waitFor(async () => {
      const found = await readDeadLetters(nc, prefix);
      return found.length > 0 ? found : undefined;
    });
    expect(record).toMatchObject({
      target: 'strict',
      rule: 'test-rule',
      partitionKey: 'p',
      attributes: { id: 'p-1', type: 'com.example.test' },
      failure: {
        attempts: 1,
        retryable: false,
        errorClass: 'NonRetryableError',
        message: 'cannot ship p-1 (attempt 1)',
      },
    });
  });

  test('RetryAfterError sets the delay before the next attempt; exhausted retries dead-letter with attempts = maxAttempts', async () => {
    const prefix = await provisionStreams(nc);
    const attempts: number[] = [];
    await consumerOf('patient', prefix, { retry: { ...fast, maxAttempts: 3 } }).handle(async () => {
      attempts.push(Date.now());
      throw new RetryAfterError(300, 'busy, come back later');
    });
    await publishDeliveries(publisher, prefix, 16, [deliveryEnvelope({ target: 'patient', key: 'w', n: 1 })]);
    const [record] = await waitFor(async () => {
      const found = await readDeadLetters(nc, prefix);
      return found.length > 0 ? found : undefined;
    });
    expect(attempts).toHaveLength(3);
    expect(attempts[1]! - attempts[0]!).toBeGreaterThanOrEqual(300);
    expect(attempts[2]! - attempts[1]!).toBeGreaterThanOrEqual(300);
    expect(record!.failure).toMatchObject({ attempts: 3, errorClass: 'RetryAfterError', retryable: true });
  });

  test('events without a key are consumed in parallel; close() lets the running handler finish', async () => {
    const prefix = await provisionStreams(nc);
    let running = 0;
    let peak = 0;
    const done: string[] = [];
    const consumer = await consumerOf('parallel', prefix).handle(async (event) => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, 50));
      running -= 1;
      done.push(String(event.id));
    });
    await publishDeliveries(
      publisher,
      prefix,
      16,
      Array.from({ length: 20 }, (_, i) => deliveryEnvelope({ target: 'parallel', n: i + 1 })),
    );
    await waitFor(() => done.length === 20);
    expect(peak).toBeGreaterThan(1);
    await publishDeliveries(publisher, prefix, 16, [deliveryEnvelope({ target: 'parallel', n: 21 })]);
    await waitFor(() => running === 1);
    await consumer.close();
    expect(done).toContain('nokey-21');
  });

  test('options are checked together', () => {
    let caught: unknown;
    try {
      createConsumer({ target: 'Bad Name', partitions: 0, streamPrefix: 'lower', natsUrl: 'nats://x:1' });
    } catch (err) {
      caught = err;
    }
    expect(isFuzeError(caught, 'FUZE_CONFIG_INVALID')).toBe(true);
    expect((caught as Error).message).toMatch(/target.*streamPrefix.*partitions/);
  });
});
