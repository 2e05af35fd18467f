import { adminModule } from '@fuze/admin';
import { JetStreamPublisher } from '@fuze/bus';
import {
  decodeDeliveryMessage,
  defaultRouting,
  encodeEventMessage,
  streamNames,
  subjectRoot,
} from '@fuze/core';
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
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
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
  const kv = await new Kvm(nc).open(`${prefix}_LEASE_OWNERS`);
  const owners = new Set<string>();
  for await (const key of await kv.keys('owner.router.*')) {
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
    publishes.push(publisher.publish(encodeEventMessage(prefix, 'default', event, defaultRouting)));
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
    const envelope = decodeDeliveryMessage(
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

test('nats-server killed -9 right after routing: no event is routed twice (acks wait for the checkpoint)', {
  timeout: 240_000,
}, async () => {
  // nats-server 2.9 writes consumer acks out lazily and forgets them when killed -9, and the
  // work-queue delivery stream no longer holds a consumed delivery to dedupe its republish: a
  // router whose position of record were the ack floor would route those events again.
  for (const r of routers) if (r.child.exitCode === null) r.child.kill('SIGKILL');
  await Promise.all(routers.map((r) => r.exited));
  const jsm = await jetstreamManager(nc);
  await jsm.streams.purge(streams.delivery);
  await jsm.consumers.add(streams.delivery, {
    durable_name: 'drain',
    ack_policy: AckPolicy.Explicit,
    filter_subject: `${subjectRoot(prefix)}.deliver.sink.>`,
  });
  // Each delivery's stream sequences: a redelivery to `drain` repeats one, a second routing adds one.
  const stored = new Map<string, Set<number>>();
  let draining = true;
  const drained = (async () => {
    while (draining) {
      try {
        const batch = await (await jetstream(nc).consumers.get(streams.delivery, 'drain')).fetch({
          max_messages: 500,
          expires: 1_000,
        });
        for await (const m of batch) {
          const id = m.headers?.get('Nats-Msg-Id') ?? '';
          stored.set(id, (stored.get(id) ?? new Set()).add(m.seq));
          m.ack();
        }
      } catch {
        await new Promise((r) => setTimeout(r, 250)); // NATS is away
      }
    }
  })();

  await startRouter();
  const publisher = new JetStreamPublisher(nc, { maxInFlight: 200, giveUpAfterMs: 60_000 });
  const count = 2_000;
  const publishes: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const key = `k${i % keys}`;
    const event = {
      specversion: '1.0' as const,
      id: `crash-${i}`,
      source: '/load',
      type: 'com.load.tick',
      partitionkey: key,
      data: { key, n: i },
    };
    publishes.push(publisher.publish(encodeEventMessage(prefix, 'default', event, defaultRouting)));
  }
  await Promise.all(publishes);
  await publisher.close();
  // Every event routed and acked (the server has the acks), then the crash at once.
  await waitFor(
    async () => {
      for await (const c of jsm.consumers.list(streams.events))
        if (c.name.startsWith('router-') && c.num_pending + c.num_ack_pending > 0) return false;
      return stored.size >= count;
    },
    { timeoutMs: 120_000, intervalMs: 20, message: 'every event routed and acked' },
  );
  await nats.kill();
  await new Promise((r) => setTimeout(r, 5_000)); // past the leases' fence: the shards change hands
  await nats.restart();
  await waitFor(
    async () => {
      for await (const c of (await jetstreamManager(nc)).consumers.list(streams.events))
        if (c.name.startsWith('router-') && c.num_pending + c.num_ack_pending > 0) return false;
      return true;
    },
    { timeoutMs: 60_000, intervalMs: 250, message: 'the router caught up after the restart' },
  );
  await new Promise((r) => setTimeout(r, 3_000)); // a re-routed delivery would be drained by now
  draining = false;
  await drained;

  const routedTwice = [...stored.values()].filter((seqs) => seqs.size > 1).length;
  console.info(`nats-server kill -9 after routing ${count} events: ${routedTwice} routed twice`);
  expect(stored.size).toBe(count);
  expect(routedTwice).toBe(0);
});
