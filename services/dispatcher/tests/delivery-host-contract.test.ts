import { JetStreamPublisher } from '@fuze/bus';
import type { CloudEventRecord } from '@fuze/core';
import { openDatabase } from '@fuze/db';
import { createConsumer, NonRetryableError } from '@fuze/sdk';
import {
  createTestDatabase,
  deliveryEnvelope,
  type NatsServerHandle,
  provisionStreams,
  publishDeliveries,
  readDeadLetters,
  seededRandom,
  startNatsServer,
  waitFor,
} from '@fuze/test/harness';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { environmentSecretStore, startDispatcher } from '../src/index.js';
import { applyRulesYaml, silent, WebhookReceiver } from './dispatcher-fixture.js';

/**
 * The delivery host contract: what every host of a target promises, run against each (watermill's
 * universal pub/sub suite is the model). The two hosts are the dispatcher (pushing to an HTTP
 * target) and the SDK's consumer (a handler in the app's own process). A host's own features
 * (signatures, modes, NATS targets, handler errors with a delay) are tested in its own files.
 */

/** What the target does with one attempt: take it, fail it (retryable), or refuse it for good. */
type Answer = 'take' | 'fail' | 'refuse';

interface HostedTarget {
  prefix: string;
  target: string;
  partitions: number;
  maxAttempts: number;
  /** Called once per attempt, in the target, with the event as the target received it. */
  answer(event: CloudEventRecord): Answer | Promise<Answer>;
}

interface DeliveryHost {
  name: string;
  host(target: HostedTarget): Promise<{ stop(): Promise<void> }>;
}

let nats: NatsServerHandle;
let nc: NatsConnection;
let publisher: JetStreamPublisher;
let receiver: WebhookReceiver;

beforeAll(async () => {
  nats = await startNatsServer();
  nc = await connect({ servers: nats.url, noAsyncTraces: true });
  publisher = new JetStreamPublisher(nc);
  receiver = await WebhookReceiver.start();
});

afterAll(async () => {
  await receiver?.close();
  await publisher?.close();
  await nc?.close();
  await nats?.[Symbol.asyncDispose]();
});

const hosts: DeliveryHost[] = [
  {
    name: 'the dispatcher, to an HTTP target',
    async host(hosted) {
      const testDb = await createTestDatabase();
      const database = await openDatabase({ url: testDb.url });
      await applyRulesYaml(
        database,
        `
apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: contract }
spec:
  pattern: { type: [com.example.test] }
  targets:
    - name: ${hosted.target}
      http: { url: "${receiver.url}/${hosted.target}", mode: structured }
      ordering: { partitionKey: "$.data.key", partitions: ${hosted.partitions} }
      retry: { maxAttempts: ${hosted.maxAttempts}, initialDelay: 5ms, maxDelay: 50ms }
`,
      );
      // 2xx takes a delivery, 503 fails it (retried), 400 refuses it (dead-lettered at once).
      receiver.respond = async (request, response) => {
        const answer = await hosted.answer(JSON.parse(request.body.toString()) as CloudEventRecord);
        response.writeHead(answer === 'take' ? 204 : answer === 'fail' ? 503 : 400).end();
      };
      const dispatcher = await startDispatcher({
        nc,
        js: jetstream(nc),
        publisher,
        db: database.db,
        streamPrefix: hosted.prefix,
        deliveryStream: `${hosted.prefix}_DELIVERY`,
        secrets: environmentSecretStore({}),
        logger: silent,
        tuning: { leaseTtlMs: 1_500 },
      });
      return {
        async stop() {
          await dispatcher.stop();
          await database.close();
          await testDb.drop();
        },
      };
    },
  },
  {
    name: "the SDK's consumer, to a handler",
    async host(hosted) {
      const consumer = createConsumer({
        target: hosted.target,
        natsUrl: nats.url,
        streamPrefix: hosted.prefix,
        partitions: hosted.partitions,
        retry: { maxAttempts: hosted.maxAttempts, backoff: 'exponential', initialDelayMs: 5, maxDelayMs: 50 },
        tuning: { leaseTtlMs: 1_500 },
        logger: silent,
      });
      // A throw fails a delivery (retried), a NonRetryableError refuses it (dead-lettered at once).
      await consumer.handle(async (event) => {
        const answer = await hosted.answer(event);
        if (answer === 'fail') throw new Error('the target failed');
        if (answer === 'refuse') throw new NonRetryableError('the target refused');
      });
      return { stop: () => consumer.close() };
    },
  },
];

describe.each(hosts)('$name', (host) => {
  let targets = 0;

  /** Hosts a new target on new streams; stops it when `run` ends. */
  async function withTarget(
    options: Omit<HostedTarget, 'prefix' | 'target' | 'partitions' | 'maxAttempts'> &
      Partial<Pick<HostedTarget, 'partitions' | 'maxAttempts'>>,
    run: (target: { prefix: string; name: string; partitions: number }) => Promise<void>,
  ): Promise<void> {
    const prefix = await provisionStreams(nc, 'HOST');
    const hosted = { prefix, target: `contract-${++targets}`, partitions: 4, maxAttempts: 50, ...options };
    const running = await host.host(hosted);
    try {
      await run({ prefix, name: hosted.target, partitions: hosted.partitions });
    } finally {
      await running.stop();
    }
  }

  it('hands each event to the target intact', async () => {
    const received: CloudEventRecord[] = [];
    await withTarget(
      {
        answer: (event) => {
          received.push(event);
          return 'take';
        },
      },
      async ({ prefix, name, partitions }) => {
        const event = { subject: 'orders/o-1', tenant: 'acme', time: '2026-01-02T03:04:05.678Z' };
        await publishDeliveries(publisher, prefix, partitions, [
          deliveryEnvelope({ target: name, key: 'a', n: 1, event }),
        ]);
        await waitFor(() => received.length > 0);
        expect(received[0]).toEqual({
          specversion: '1.0',
          id: 'a-1',
          source: '/tests/deliveries',
          type: 'com.example.test',
          datacontenttype: 'application/json',
          ...event,
          data: { key: 'a', n: 1 },
        });
      },
    );
  });

  it('delivers every event in per-key order while the target fails at random', async () => {
    const random = seededRandom(17);
    const arrivals = new Map<string, number[]>();
    const keys = Array.from({ length: 12 }, (_, i) => `k${i}`);
    const perKey = 15;
    await withTarget(
      {
        answer: (event) => {
          if (random() < 0.2) return 'fail';
          const { key, n } = event.data as { key: string; n: number };
          arrivals.set(key, [...(arrivals.get(key) ?? []), n]);
          return 'take';
        },
      },
      async ({ prefix, name, partitions }) => {
        const envelopes = [];
        for (let n = 1; n <= perKey; n++)
          for (const key of keys) envelopes.push(deliveryEnvelope({ target: name, key, n }));
        await publishDeliveries(publisher, prefix, partitions, envelopes);
        await waitFor(() => keys.every((key) => new Set(arrivals.get(key)).size === perKey), {
          timeoutMs: 60_000,
          message: 'every event taken',
        });
        for (const key of keys) {
          // A redelivery of a taken event may repeat it (at least once); first arrivals keep order.
          expect([...new Set(arrivals.get(key))], key).toEqual(
            Array.from({ length: perKey }, (_, i) => i + 1),
          );
        }
      },
    );
  });

  it('hands different keys to the target in parallel', async () => {
    let running = 0;
    let peak = 0;
    let taken = 0;
    await withTarget(
      {
        answer: async (): Promise<Answer> => {
          running += 1;
          peak = Math.max(peak, running);
          await new Promise((resolve) => setTimeout(resolve, 100));
          running -= 1;
          taken += 1;
          return 'take';
        },
      },
      async ({ prefix, name, partitions }) => {
        const envelopes = Array.from({ length: 8 }, (_, i) =>
          deliveryEnvelope({ target: name, key: `p${i}`, n: 1 }),
        );
        await publishDeliveries(publisher, prefix, partitions, envelopes);
        await waitFor(() => taken === 8);
        expect(peak).toBeGreaterThan(1);
      },
    );
  });

  it('dead-letters an event after maxAttempts failures, and its key moves on', async () => {
    const attempts = new Map<string, number>();
    await withTarget(
      {
        maxAttempts: 3,
        answer: (event) => {
          attempts.set(event.id, (attempts.get(event.id) ?? 0) + 1);
          return event.id === 'd-1' ? 'fail' : 'take';
        },
      },
      async ({ prefix, name, partitions }) => {
        await publishDeliveries(publisher, prefix, partitions, [
          deliveryEnvelope({ target: name, key: 'd', n: 1 }),
          deliveryEnvelope({ target: name, key: 'd', n: 2 }),
        ]);
        const [record, ...rest] = await waitFor(async () => {
          const found = await readDeadLetters(nc, prefix);
          return found.length > 0 ? found : undefined;
        });
        await waitFor(() => attempts.has('d-2'), { message: 'the next event of the key' });
        expect(rest).toHaveLength(0);
        expect(attempts.get('d-1')).toBe(3);
        expect(record).toMatchObject({
          target: name,
          partitionKey: 'd',
          attributes: { id: 'd-1', type: 'com.example.test' },
          failure: { attempts: 3, retryable: true },
        });
      },
    );
  });

  it('dead-letters a refused event at once, and its key moves on', async () => {
    const attempts = new Map<string, number>();
    await withTarget(
      {
        answer: (event) => {
          attempts.set(event.id, (attempts.get(event.id) ?? 0) + 1);
          return event.id === 'r-1' ? 'refuse' : 'take';
        },
      },
      async ({ prefix, name, partitions }) => {
        await publishDeliveries(publisher, prefix, partitions, [
          deliveryEnvelope({ target: name, key: 'r', n: 1 }),
          deliveryEnvelope({ target: name, key: 'r', n: 2 }),
        ]);
        const [record] = await waitFor(async () => {
          const found = await readDeadLetters(nc, prefix);
          return found.length > 0 ? found : undefined;
        });
        await waitFor(() => attempts.has('r-2'), { message: 'the next event of the key' });
        expect(attempts.get('r-1')).toBe(1);
        expect(record).toMatchObject({
          target: name,
          attributes: { id: 'r-1' },
          failure: { attempts: 1, retryable: false },
        });
      },
    );
  });
});
