import { adminModule } from '@fuze/admin';
import { eventPublishRequest, JetStreamPublisher } from '@fuze/bus';
import { decodeDelivery, streamNames } from '@fuze/core';
import { gatewayModule } from '@fuze/gateway';
import {
  createTestDatabase,
  type FuzeProcess,
  freePort,
  type InProcessFuze,
  makeTempDir,
  type NatsServerHandle,
  readStream,
  removeTempDir,
  spawnFuze,
  startInProcessFuze,
  startNatsServer,
  type TestDatabase,
  waitFor,
} from '@fuze/test/harness';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect, test } from 'vitest';

const prefix = 'RF';
const streams = streamNames(prefix);
const total = 4_000;
const keys = 50;
let nats: NatsServerHandle;
let db: TestDatabase;
let control: InProcessFuze;
let nc: NatsConnection;
let dataDir: string;
const routers: FuzeProcess[] = [];

const rule = `apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: load }
spec:
  pattern: { type: [com.load.tick] }
  targets:
    - name: sink
      consumer: {}
      ordering: { partitionKey: "$.data.key", partitions: 8 }
`;

async function startRouter(): Promise<FuzeProcess> {
  const router = spawnFuze(['serve', '--services', 'router'], {
    FUZE_NATS_URL: nats.url,
    FUZE_DATABASE_URL: db.url,
    FUZE_STREAM_PREFIX: prefix,
    FUZE_DATA_DIR: dataDir,
    FUZE_METRICS_PORT: String(await freePort()),
    FUZE_LOG_LEVEL: 'info',
  });
  await router.waitForLog('fuze is running', 90_000);
  routers.push(router);
  return router;
}

async function leaseOwners(): Promise<Set<string>> {
  const kv = await new Kvm(nc).open(`${prefix}_LEASES`);
  const owners = new Set<string>();
  for await (const key of await kv.keys('lease.router.*')) {
    const entry = await kv.get(key);
    if (entry && entry.operation === 'PUT') owners.add(entry.string());
  }
  return owners;
}

beforeAll(async () => {
  nats = await startNatsServer();
  db = await createTestDatabase();
  dataDir = await makeTempDir('fuze-rf-');
  control = await startInProcessFuze({
    modules: [adminModule, gatewayModule],
    natsUrl: nats.url,
    env: { FUZE_DATABASE_URL: db.url, FUZE_STREAM_PREFIX: prefix },
  });
  nc = await connect({ servers: nats.url, noAsyncTraces: true });
  const res = await fetch(`${control.adminUrl}/v1/apply`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ files: [{ path: 'load.yaml', content: rule }] }),
  });
  expect(res.status).toBe(200);
});

afterAll(async () => {
  for (const r of routers) r.child.kill('SIGKILL');
  await nc?.close();
  await control?.stop();
  await db?.drop();
  await nats?.[Symbol.asyncDispose]();
  await removeTempDir(dataDir);
});

test('two routers share the work; one SIGKILLed mid-stream and restarted: every event delivered once, per key in order', {
  timeout: 240_000,
}, async () => {
  const first = await startRouter();
  await startRouter();
  await waitFor(async () => (await leaseOwners()).size === 2, {
    timeoutMs: 30_000,
    message: 'both routers should own shards',
  });

  const publisher = new JetStreamPublisher(nc, { maxInFlight: 500 });
  const publishes: Promise<unknown>[] = [];
  for (let i = 0; i < total; i++) {
    const key = `k${i % keys}`;
    const event = {
      specversion: '1.0' as const,
      id: `tick-${i}`,
      source: '/load',
      type: 'com.load.tick',
      partitionkey: key,
      data: { key, n: i },
    };
    publishes.push(publisher.publish(eventPublishRequest(prefix, 'default', event)));
    if (i === total / 2) {
      await Promise.all(publishes);
      first.child.kill('SIGKILL'); // mid-stream: it holds unacked events of its shards
      await first.exited;
    }
  }
  await Promise.all(publishes);
  await startRouter(); // the killed router comes back

  const jsm = await jetstreamManager(nc);
  await waitFor(async () => (await jsm.streams.info(streams.delivery)).state.messages >= total, {
    timeoutMs: 120_000,
    intervalMs: 500,
    message: 'not every event was delivered',
  });
  // let any redelivery after the crash land before counting duplicates
  await new Promise((r) => setTimeout(r, 3_000));

  const messages = await readStream(nc, streams.delivery);
  const deliveries = messages.map((m) => {
    const envelope = decodeDelivery(
      { get: (k) => m.headers[k] ?? '', keys: () => Object.keys(m.headers) },
      m.data,
    );
    return {
      id: envelope.attributes.id!,
      key: envelope.partitionKey!,
      n: JSON.parse(new TextDecoder().decode(m.data)).data.n as number,
    };
  });
  const ids = new Set(deliveries.map((d) => d.id));
  console.info(
    `router faults: ${total} events, ${deliveries.length} deliveries stored, ${deliveries.length - ids.size} duplicates`,
  );
  expect(ids.size).toBe(total);
  expect(deliveries.length).toBe(total); // JetStream dedupe kept republished deliveries out
  for (let k = 0; k < keys; k++) {
    const order = deliveries.filter((d) => d.key === `k${k}`).map((d) => d.n);
    expect(order).toEqual([...order].sort((a, b) => a - b));
  }
  await publisher.close();
});
