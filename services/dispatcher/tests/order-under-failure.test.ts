import { type Database, openDatabase } from '@fuze/db';
import {
  createTestDatabase,
  deliveryEnvelope,
  type FuzeProcess,
  type NatsServerHandle,
  provisionStreams,
  publishDeliveries,
  readDeadLetters,
  spawnFuze,
  startNatsServer,
  type TestDatabase,
  waitFor,
} from '@fuze/test/harness';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { applyRulesYaml, JetStreamPublisher, WebhookReceiver } from './dispatcher-fixture.js';

const keys = 200;
const perKey = 100;
const partitions = 16;

let nats: NatsServerHandle;
let nc: NatsConnection;
let testDb: TestDatabase;
let database: Database;
let receiver: WebhookReceiver;
const processes: FuzeProcess[] = [];

beforeAll(async () => {
  nats = await startNatsServer();
  nc = await connect({ servers: nats.url, noAsyncTraces: true });
  testDb = await createTestDatabase();
  database = await openDatabase({ url: testDb.url });
  receiver = await WebhookReceiver.start();
});

afterAll(async () => {
  for (const p of processes) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await Promise.all(processes.map((p) => p.exited));
  await receiver?.close();
  await database?.close();
  await testDb?.drop();
  await nc?.close();
  await nats?.[Symbol.asyncDispose]();
});

/** Per key: the event numbers in arrival order, and when the key last received one. */
const arrivals = new Map<string, number[]>();
const lastArrival = new Map<string, number>();

test(`order under failure: ${keys * perKey} events, ${keys} keys, ${partitions} partitions, 3 dispatchers (one SIGKILLed and restarted), 10% of requests failing`, async () => {
  const prefix = await provisionStreams(nc, 'ORD');
  await applyRulesYaml(
    database,
    `
apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: flaky-orders }
spec:
  pattern: { type: [com.example.test] }
  targets:
    - name: flaky
      http: { url: "${receiver.url}/flaky", mode: binary }
      ordering: { partitionKey: "$.data.key", partitions: ${partitions} }
      retry: { maxAttempts: 50, initialDelay: 10ms, maxDelay: 200ms, maxAge: 1h }
`,
  );
  let failed = 0;
  let killedAt = 0;
  let longestPause = 0;
  receiver.respond = (req, res) => {
    if (Math.random() < 0.1) {
      failed += 1;
      res.writeHead(Math.random() < 0.5 ? 503 : 500).end('random failure');
      return;
    }
    const { key, n } = JSON.parse(req.body.toString()) as { key: string; n: number };
    const list = arrivals.get(key) ?? [];
    list.push(n);
    arrivals.set(key, list);
    const now = Date.now();
    if (killedAt > 0 && n < perKey)
      longestPause = Math.max(longestPause, now - (lastArrival.get(key) ?? now));
    lastArrival.set(key, now);
    res.writeHead(204).end();
  };
  const env = {
    FUZE_NATS_URL: nats.url,
    FUZE_DATABASE_URL: testDb.url,
    FUZE_STREAM_PREFIX: prefix,
    FUZE_METRICS_PORT: '0',
    FUZE_LOG_LEVEL: 'info',
  };
  const start = () => {
    const p = spawnFuze(['serve', '--services', 'dispatcher'], env);
    processes.push(p);
    return p;
  };
  const dispatchers = [start(), start(), start()];
  await Promise.all(dispatchers.map((p) => p.waitForLog('fuze is running', 90_000)));

  const publisher = new JetStreamPublisher(nc);
  const envelopes = [];
  for (let n = 1; n <= perKey; n++)
    for (let k = 0; k < keys; k++) envelopes.push(deliveryEnvelope({ target: 'flaky', key: `key-${k}`, n }));
  await publishDeliveries(publisher, prefix, partitions, envelopes);
  await publisher.close();

  const received = () => [...arrivals.values()].reduce((sum, list) => sum + list.length, 0);
  await waitFor(() => received() >= 5_000, { timeoutMs: 120_000, message: '5,000 deliveries' });
  const victim = dispatchers[0]!;
  killedAt = Date.now();
  victim.child.kill('SIGKILL');
  await victim.exited;
  const atKill = received();
  await waitFor(() => received() >= atKill + 5_000, {
    timeoutMs: 120_000,
    message: '5,000 more after the kill',
  });
  const restarted = start();
  await restarted.waitForLog('fuze is running', 90_000);

  const complete = () => {
    for (let k = 0; k < keys; k++) if (new Set(arrivals.get(`key-${k}`)).size < perKey) return false;
    return true;
  };
  await waitFor(complete, { timeoutMs: 180_000, intervalMs: 250, message: 'every event delivered' }).catch(
    (err: unknown) => {
      const missing = [...Array(keys).keys()]
        .map((k) => `key-${k}`)
        .filter((key) => new Set(arrivals.get(key)).size < perKey)
        .map((key) => `${key}: ${new Set(arrivals.get(key)).size}`);
      console.error(`incomplete keys (${missing.length}): ${missing.slice(0, 20).join(', ')}`);
      for (const p of processes) console.error(`--- dispatcher ${p.child.pid}\n${p.output().slice(-3_000)}`);
      throw err;
    },
  );

  let duplicates = 0;
  let lateDuplicates = 0;
  const outOfOrder: string[] = [];
  for (const [key, list] of arrivals) {
    const seen = new Set<number>();
    const firsts: number[] = [];
    let highest = 0;
    for (const n of list) {
      if (seen.has(n)) {
        duplicates += 1;
        if (n < highest) lateDuplicates += 1;
      } else {
        seen.add(n);
        firsts.push(n);
      }
      highest = Math.max(highest, n);
    }
    if (firsts.some((n, i) => n !== i + 1)) outOfOrder.push(key);
  }
  console.info(
    `order under failure: ${keys * perKey} events delivered in per-key order; ${received()} successful requests, ` +
      `${failed} failed on purpose, ${duplicates} duplicates (${lateDuplicates} arriving after a later event of their key); ` +
      `longest pause of a key after the kill: ${longestPause} ms (its partition moving to a survivor)`,
  );
  expect(outOfOrder).toEqual([]);
  // Fenced owners: a repeated event never comes after a newer one of its key (ADR 0006).
  expect(lateDuplicates).toBe(0);
  expect((await readDeadLetters(nc, prefix)).length).toBe(0);

  for (const p of [...dispatchers.slice(1), restarted]) p.child.kill('SIGTERM');
  for (const p of [...dispatchers.slice(1), restarted]) expect(await p.exited).toBe(0);
}, 420_000);
