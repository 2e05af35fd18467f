import { type CloudEventRecord, createLogger, FuzeError, loadConfig, partitionFor } from '@fuze/core';
import { type NatsServerHandle, startNatsServer } from '@fuze/test/harness';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ensureTopology, openRoutingBucket, publishBusRouting, RoutingTable } from '../src/index.js';

let server: NatsServerHandle;
let nc: NatsConnection;
const logger = createLogger('silent');

beforeAll(async () => {
  server = await startNatsServer();
  nc = await connect({ servers: server.url });
});
afterAll(async () => {
  await nc?.close();
  await server?.[Symbol.asyncDispose]();
});

async function provision(prefix: string, env: Record<string, string> = {}): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await ensureTopology(jsm, loadConfig({ FUZE_STREAM_PREFIX: prefix, ...env }).streams, logger);
}

function order(source: string, orderId: string, partitionkey?: string): CloudEventRecord {
  return {
    specversion: '1.0',
    id: `${source}-${orderId}`,
    source,
    type: 'com.shop.order.placed',
    ...(partitionkey === undefined ? {} : { partitionkey }),
    data: { orderId },
  };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
  expect(check()).toBe(true);
}

describe('routing shards', () => {
  test('the first start records the count; every later start must use the same', async () => {
    await provision('RS1', { FUZE_ROUTING_SHARDS: '48' });
    await provision('RS1', { FUZE_ROUTING_SHARDS: '48' });
    const error = await provision('RS1', { FUZE_ROUTING_SHARDS: '16' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FuzeError);
    expect((error as FuzeError).code).toBe('FUZE_TOPOLOGY_CONFLICT');
    expect((error as FuzeError).message).toContain('FUZE_ROUTING_SHARDS is 16');
    expect((error as FuzeError).message).toContain('set up with 48 routing shards');
    const table = await RoutingTable.open(nc, 'RS1');
    expect(table.shards).toBe(48);
    expect(table.shardOf('default', order('/a', 'o-1', 'k'))).toBe(partitionFor('k', 48));
    table.close();
  });

  test('a prefix no server set up is refused with what to do', async () => {
    const error = await RoutingTable.open(nc, 'NEVER').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FuzeError);
    expect((error as FuzeError).message).toContain('start `fuze serve`');
  });
});

describe('bus ordering keys', () => {
  test('a table sees settings stored before it opened and each change after', async () => {
    await provision('RS2');
    const kv = await openRoutingBucket(nc, 'RS2');
    await publishBusRouting(kv, 'orders', 1, { orderingKey: '$.data.orderId' });
    const table = await RoutingTable.open(nc, 'RS2', logger);
    expect(table.orderingKeyOf('orders')).toBe('$.data.orderId');
    // Two sources, one order: one shard on `orders`; by source on a bus without settings.
    const a = order('/checkout', 'o-7');
    const b = order('/payments', 'o-7', 'pay-1');
    expect(table.shardOf('orders', a)).toBe(partitionFor('o-7', 16));
    expect(table.shardOf('orders', b)).toBe(partitionFor('o-7', 16));
    expect(table.shardOf('default', a)).toBe(partitionFor('/checkout', 16));
    expect(table.shardOf('default', b)).toBe(partitionFor('pay-1', 16));

    await publishBusRouting(kv, 'orders', 2, {});
    await publishBusRouting(kv, 'payments', 2, { orderingKey: '$.data.orderId' });
    await until(
      () => table.orderingKeyOf('orders') === undefined && table.orderingKeyOf('payments') !== undefined,
    );
    expect(table.shardOf('orders', b)).toBe(partitionFor('pay-1', 16));
    table.close();
  });

  test('an older revision never replaces a newer one', async () => {
    await provision('RS3');
    const kv = await openRoutingBucket(nc, 'RS3');
    expect(await publishBusRouting(kv, 'orders', 5, { orderingKey: '$.data.orderId' })).toBe(true);
    expect(await publishBusRouting(kv, 'orders', 4, {})).toBe(false);
    expect(await publishBusRouting(kv, 'orders', 5, {})).toBe(false);
    // Writers racing on one revision: exactly one writes, and the value is whole.
    const raced = await Promise.all(
      Array.from({ length: 5 }, () => publishBusRouting(kv, 'orders', 6, { orderingKey: '$.data.x' })),
    );
    expect(raced.filter(Boolean)).toHaveLength(1);
    const table = await RoutingTable.open(nc, 'RS3');
    expect(table.orderingKeyOf('orders')).toBe('$.data.x');
    table.close();
  });

  test('the watch comes back after nats-server restarts, and sees changes made after', async () => {
    const own = await startNatsServer();
    const client = await connect({ servers: own.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    try {
      const jsm = await jetstreamManager(client);
      await ensureTopology(jsm, loadConfig({ FUZE_STREAM_PREFIX: 'RS4' }).streams, logger);
      const table = await RoutingTable.open(client, 'RS4', logger);
      await publishBusRouting(await openRoutingBucket(client, 'RS4'), 'orders', 1, {
        orderingKey: '$.data.a',
      });
      await until(() => table.orderingKeyOf('orders') === '$.data.a');
      await own.kill();
      await own.restart();
      const writer = await connect({ servers: own.url });
      try {
        const kv = await openRoutingBucket(writer, 'RS4');
        await publishBusRouting(kv, 'orders', 2, { orderingKey: '$.data.b' });
        await until(() => table.orderingKeyOf('orders') === '$.data.b');
      } finally {
        await writer.close();
      }
      table.close();
    } finally {
      await client.close();
      await own[Symbol.asyncDispose]();
    }
  });
});
