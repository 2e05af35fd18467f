import { type Database, openDatabase } from '@fuze/db';
import {
  createTestDatabase,
  deliveryEnvelope,
  type NatsServerHandle,
  provisionStreams,
  publishDeliveries,
  startNatsServer,
  type TestDatabase,
  waitFor,
} from '@fuze/test/harness';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { environmentSecretStore, startDispatcher } from '../src/index.js';
import { applyRulesYaml, JetStreamPublisher, silent, WebhookReceiver } from './dispatcher-fixture.js';

let nats: NatsServerHandle;
let testDb: TestDatabase;
let database: Database;
let receiver: WebhookReceiver;
const connections: NatsConnection[] = [];

beforeAll(async () => {
  nats = await startNatsServer();
  testDb = await createTestDatabase();
  database = await openDatabase({ url: testDb.url });
  receiver = await WebhookReceiver.start();
});

afterAll(async () => {
  for (const nc of connections) if (!nc.isClosed()) await nc.close();
  await receiver?.close();
  await database?.close();
  await testDb?.drop();
  await nats?.[Symbol.asyncDispose]();
});

const reconnecting = async () => {
  const nc = await connect({
    servers: nats.url,
    noAsyncTraces: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 100,
  });
  connections.push(nc);
  return nc;
};

test('NATS restarted during delivery: nothing lost, per-key order kept', async () => {
  const keys = 40;
  const perKey = 100;
  const arrivals = new Map<string, number[]>();
  receiver.respond = (req, res) => {
    const { key, n } = JSON.parse(req.body.toString()) as { key: string; n: number };
    arrivals.set(key, [...(arrivals.get(key) ?? []), n]);
    // A slow target, so the restart lands mid-way.
    setTimeout(() => res.writeHead(204).end(), 2);
  };
  const nc = await reconnecting();
  const prefix = await provisionStreams(nc, 'RST');
  await applyRulesYaml(
    database,
    `
apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: restart }
spec:
  pattern: { type: [com.example.test] }
  targets:
    - name: steady
      http: { url: "${receiver.url}/steady", mode: binary }
      retry: { maxAttempts: 100, initialDelay: 50ms, maxDelay: 1s }
`,
  );
  const publisher = new JetStreamPublisher(nc);
  const envelopes = [];
  for (let n = 1; n <= perKey; n++)
    for (let k = 0; k < keys; k++) envelopes.push(deliveryEnvelope({ target: 'steady', key: `key-${k}`, n }));
  await publishDeliveries(publisher, prefix, 16, envelopes);
  await publisher.close();

  const dispatcherNc = await reconnecting();
  const dispatcherPublisher = new JetStreamPublisher(dispatcherNc);
  const dispatcher = await startDispatcher({
    nc: dispatcherNc,
    js: jetstream(dispatcherNc),
    publisher: dispatcherPublisher,
    db: database.db,
    streamPrefix: prefix,
    deliveryStream: `${prefix}_DELIVERY`,
    secrets: environmentSecretStore({}),
    logger: silent,
    tuning: { leaseTtlMs: 1_500, maxConcurrency: 8 },
  });

  const received = () => [...arrivals.values()].reduce((sum, list) => sum + list.length, 0);
  await waitFor(() => received() >= 1_000, { timeoutMs: 30_000, message: '1,000 deliveries' });
  await nats.restart();
  const atRestart = received();
  await waitFor(
    () => [...arrivals.values()].filter((list) => new Set(list).size === perKey).length === keys,
    { timeoutMs: 120_000, intervalMs: 200, message: 'every event delivered after the restart' },
  );
  let duplicates = 0;
  const outOfOrder: string[] = [];
  for (const [key, list] of arrivals) {
    const firsts = [...new Set(list)];
    duplicates += list.length - firsts.length;
    if (firsts.some((n, i) => n !== i + 1)) outOfOrder.push(key);
  }
  console.info(
    `NATS restart after ${atRestart} deliveries: all ${keys * perKey} delivered, ${duplicates} duplicates`,
  );
  expect(outOfOrder).toEqual([]);
  await dispatcher.stop();
  await dispatcherPublisher.close();
}, 180_000);
