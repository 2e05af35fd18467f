import { adminModule } from '@fuze/admin';
import { RoutingTable } from '@fuze/bus';
import { decodeDeliveryMessage, type FuzeError, partitionFor, streamNames } from '@fuze/core';
import { gatewayModule } from '@fuze/gateway';
import { createPublisher } from '@fuze/sdk';
import {
  createTestDatabase,
  type InProcessFuze,
  type NatsServerHandle,
  readStream,
  startInProcessFuze,
  startNatsServer,
  type TestDatabase,
  waitFor,
} from '@fuze/test/harness';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { routerModule } from '../src/index.js';

// A count other than the default, so that shards 16-31 prove the routers took it from the config.
const shards = 32;
const prefix = 'BK';
const streams = streamNames(prefix);
let nats: NatsServerHandle;
let db: TestDatabase;
let fuze: InProcessFuze;
let nc: NatsConnection;
let routing: RoutingTable;

const bus = `
apiVersion: fuze.dev/v1
kind: Bus
metadata: { name: orders }
spec: { orderingKey: $.data.orderId }
`;
const rules = `
apiVersion: fuze.dev/v1
kind: Rule
metadata: { name: fulfil-orders, bus: orders }
spec:
  pattern: { source: [{ prefix: "" }] }
  targets:
    - name: fulfil
      consumer: {}
      ordering: { partitionKey: $.data.orderId, partitions: 4 }
`;

async function apply(files: Record<string, string>, options: { prune?: boolean } = {}) {
  const res = await fetch(`${fuze.adminUrl}/v1/apply`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      files: Object.entries(files).map(([path, content]) => ({ path, content })),
      ...options,
    }),
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { buses: Record<string, string[]> };
}

async function post(busName: string, event: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${fuze.gatewayUrl}/v1/buses/${busName}/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/cloudevents+json' },
    body: JSON.stringify({ specversion: '1.0', type: 'com.shop.order.updated', ...event }),
  });
  expect(res.status).toBe(202);
}

/** The routing shard token of each stored event of `ids`, by id. */
async function storedShards(ids: string[]): Promise<Map<string, number>> {
  return waitFor(
    async () => {
      const found = new Map<string, number>();
      for (const m of await readStream(nc, streams.events)) {
        const id = (JSON.parse(new TextDecoder().decode(m.data)) as { id: string }).id;
        if (ids.includes(id)) found.set(id, Number(m.subject.split('.')[3]));
      }
      return found.size === ids.length ? found : undefined;
    },
    { message: `stored events ${ids.join(', ')}` },
  );
}

/** An order id whose routing shard is in the upper half, which a 16-shard router never consumes. */
function upperHalfOrderId(): string {
  for (let i = 0; ; i++) if (partitionFor(`o-${i}`, shards) >= 16) return `o-${i}`;
}

beforeAll(async () => {
  nats = await startNatsServer();
  db = await createTestDatabase();
  fuze = await startInProcessFuze({
    modules: [adminModule, routerModule, gatewayModule],
    natsUrl: nats.url,
    env: { FUZE_DATABASE_URL: db.url, FUZE_STREAM_PREFIX: prefix, FUZE_ROUTING_SHARDS: String(shards) },
  });
  nc = await connect({ servers: nats.url });
  routing = await RoutingTable.open(nc, prefix);
});
afterAll(async () => {
  routing?.close();
  await nc?.close();
  await fuze?.stop();
  await db?.drop();
  await nats?.[Symbol.asyncDispose]();
});

describe("a bus's ordering key", () => {
  test('routes one order through one shard whoever publishes it, and the target gets it in accepted order', async () => {
    const result = await apply({ 'bus.yaml': bus, 'rules.yaml': rules });
    expect(result.buses).toMatchObject({ created: ['orders'] });
    await waitFor(async () => routing.orderingKeyOf('orders') === '$.data.orderId' || undefined, {
      message: 'the routers to publish the ordering key',
    });
    // The gateway's copy comes by its own watch: wait until a probe is placed by the key.
    let probe = 0;
    await waitFor(
      async () => {
        const id = `probe-${probe++}`;
        await post('orders', { id, source: '/probe', data: { orderId: 'o-probe' } });
        const shard = (await storedShards([id])).get(id);
        return shard === partitionFor('o-probe', shards) || undefined;
      },
      { message: "the gateway to route by the bus's ordering key" },
    );

    const orderId = upperHalfOrderId();
    const expected = partitionFor(orderId, shards);
    const sdk = createPublisher({ natsUrl: nats.url, streamPrefix: prefix, bus: 'orders' });
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const id = `${orderId}-step-${i}`;
      ids.push(id);
      const data = { orderId, step: i };
      // Three services, three sources, and attributes that alone would spread them over shards.
      if (i % 3 === 0) await post('orders', { id, source: '/checkout', data });
      else if (i % 3 === 1) await post('orders', { id, source: '/payments', partitionkey: `pay-${i}`, data });
      else
        await sdk.publish({
          id,
          source: '/shipping',
          subject: `parcel-${i}`,
          type: 'com.shop.order.updated',
          data,
        });
    }
    await sdk.close();
    const placed = await storedShards(ids);
    expect(new Set(placed.values())).toEqual(new Set([expected]));
    // The same events on a bus without settings go by their attributes.
    expect(
      routing.shardOf('default', {
        specversion: '1.0',
        id: 'x',
        type: 't',
        source: '/payments',
        partitionkey: 'pay-1',
      }),
    ).toBe(partitionFor('pay-1', shards));

    const delivered = await waitFor(
      async () => {
        const found = (await readStream(nc, streams.delivery))
          .map((m) => {
            const headers = { get: (k: string) => m.headers[k] ?? '', keys: () => Object.keys(m.headers) };
            return decodeDeliveryMessage(headers, m.data);
          })
          .filter((d) => ids.includes(d.attributes.id!));
        return found.length === ids.length ? found : undefined;
      },
      { timeoutMs: 20_000, message: 'every step delivered' },
    );
    expect(delivered.map((d) => d.attributes.id)).toEqual(ids);
  });

  test('pruned from the files, the bus goes back to routing by attributes', async () => {
    const result = await apply({ 'rules.yaml': rules }, { prune: true });
    expect(result.buses).toMatchObject({ deleted: ['orders'] });
    await waitFor(async () => routing.orderingKeyOf('orders') === undefined || undefined, {
      message: 'the routers to remove the ordering key',
    });
    const event = {
      specversion: '1.0' as const,
      id: 'y',
      type: 't',
      source: '/checkout',
      data: { orderId: 'o-1' },
    };
    expect(routing.shardOf('orders', event)).toBe(partitionFor('/checkout', shards));
  });

  test('an instance configured with another shard count refuses to start, naming the variable', async () => {
    const error = await startInProcessFuze({
      modules: [routerModule],
      natsUrl: nats.url,
      env: { FUZE_DATABASE_URL: db.url, FUZE_STREAM_PREFIX: prefix, FUZE_ROUTING_SHARDS: '16' },
    }).catch((e: unknown) => e as FuzeError);
    expect(error).toMatchObject({ code: 'FUZE_TOPOLOGY_CONFLICT' });
    expect((error as FuzeError).message).toContain('FUZE_ROUTING_SHARDS is 16');
  });
});
