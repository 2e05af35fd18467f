import { createPublisher, isFuzeError, type Publisher, PublishRejectedError } from '@fuze/sdk';
import { type NatsServerHandle, provisionStreams, startNatsServer } from '@fuze/test/harness';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningGateway, startGateway } from './gateway-fixture.js';
import { connectTo, readEvents } from './stream-fixture.js';

const adminToken = 'sdk-tests-admin-token-0123456789';
const orderSchema = {
  type: 'object',
  required: ['orderId', 'total'],
  properties: { orderId: { type: 'string' }, total: { type: 'number', minimum: 0 } },
};

let nats: NatsServerHandle;
let nc: NatsConnection;

beforeAll(async () => {
  nats = await startNatsServer();
  nc = await connectTo(nats.url);
});

afterAll(async () => {
  await nc?.close();
  await nats?.[Symbol.asyncDispose]();
});

// What every transport promises is in publisher-contract.test.ts; this is the HTTP path's own.
describe('createPublisher({ gatewayUrl }): through the gateway, with FUZE_ADMIN_TOKEN set', () => {
  let prefix: string;
  let gateway: RunningGateway;
  let publisher: Publisher;

  beforeAll(async () => {
    prefix = await provisionStreams(nc);
    gateway = await startGateway({
      nc,
      prefix,
      adminToken,
      schemas: { 'com.shop.order.placed': orderSchema },
    });
    publisher = createPublisher({ gatewayUrl: gateway.url, token: adminToken });
  });

  afterAll(async () => {
    await publisher?.close();
    await gateway?.stop();
  });

  it('publishes with the token, filling id, time and specversion', async () => {
    const result = await publisher.publish({
      source: '/shop',
      type: 'com.shop.order.placed',
      subject: 'o-1',
      data: { orderId: 'o-1', total: 10 },
    });

    expect(result.status).toBe('accepted');
    const stored = (await readEvents(nc, prefix)).find((s) => s.event.id === result.id);
    expect(stored?.subject).toMatch(
      new RegExp(`^${prefix.toLowerCase()}\\.events\\.default\\.\\d+\\.com\\.shop\\.order\\.placed$`),
    );
    expect(stored?.event).toMatchObject({ specversion: '1.0', subject: 'o-1', data: { orderId: 'o-1' } });
    expect(Date.parse(String(stored?.event.time))).not.toBeNaN();
  });

  it('is refused with FUZE_UNAUTHORIZED without the token, for a single event and a batch', async () => {
    const anonymous = createPublisher({ gatewayUrl: gateway.url, env: {} });
    try {
      const single = await anonymous.publish({ source: '/shop', type: 'com.example.x' }).catch((e) => e);
      expect(isFuzeError(single, 'FUZE_UNAUTHORIZED')).toBe(true);
      expect(single).not.toBeInstanceOf(PublishRejectedError);
      const batch = await anonymous
        .publishBatch([{ source: '/shop', type: 'com.example.x' }])
        .catch((e) => e);
      expect(isFuzeError(batch, 'FUZE_UNAUTHORIZED')).toBe(true);
    } finally {
      await anonymous.close();
    }
  });

  it("rejects data that fails the type's schema, naming the path", async () => {
    const error = await publisher
      .publish({ source: '/shop', type: 'com.shop.order.placed', data: { orderId: 'o-2', total: -1 } })
      .catch((e) => e);

    expect(error).toBeInstanceOf(PublishRejectedError);
    expect((error as PublishRejectedError).code).toBe('FUZE_INVALID_DATA');
    expect((error as PublishRejectedError).problems).toEqual([
      expect.objectContaining({ pointer: 'data.total' }),
    ]);
  });

  it('splits a batch over the limit of 100 and answers per entry, in order', async () => {
    const events = Array.from({ length: 250 }, (_, i) => ({
      id: `batch-${i}`,
      source: '/shop',
      type: 'com.shop.order.placed',
      data: { orderId: `o-${i}`, total: i === 120 ? 'free' : i },
    }));
    events[7] = { ...events[7]!, source: '' };
    const { failedCount, results } = await publisher.publishBatch(events);

    expect(failedCount).toBe(2);
    expect(results.map((r) => r.id)).toEqual(events.map((e) => e.id));
    expect(results.filter((r) => r.status === 'rejected').map((r) => r.id)).toEqual(['batch-7', 'batch-120']);
    const invalid = results[120];
    expect(invalid?.status === 'rejected' && invalid.error.code).toBe('FUZE_INVALID_DATA');
    const storedIds = new Set((await readEvents(nc, prefix)).map((s) => s.event.id));
    expect(events.filter((e) => storedIds.has(e.id))).toHaveLength(248);
  });

  it('reads FUZE_GATEWAY_URL and FUZE_TOKEN when no option is given', async () => {
    const fromEnv = createPublisher({ env: { FUZE_GATEWAY_URL: gateway.url, FUZE_TOKEN: adminToken } });
    try {
      expect(fromEnv.transport).toBe('http');
      expect((await fromEnv.publish({ source: '/env', type: 'com.example.env' })).status).toBe('accepted');
    } finally {
      await fromEnv.close();
    }
  });
});

describe('createPublisher({ gatewayUrl }): a gateway without FUZE_ADMIN_TOKEN', () => {
  it('publishes without a token, to the chosen bus', async () => {
    const prefix = await provisionStreams(nc);
    const gateway = await startGateway({ nc, prefix });
    const publisher = createPublisher({ gatewayUrl: gateway.url, bus: 'billing', env: {} });
    try {
      const result = await publisher.publish({ source: '/billing', type: 'com.example.billed' });
      const batch = await publisher.publishBatch([{ source: '/billing', type: 'com.example.billed' }]);

      expect(result.status).toBe('accepted');
      expect(batch.failedCount).toBe(0);
      const stored = await readEvents(nc, prefix);
      expect(
        stored.map((s) => s.subject.replace(/\.events\.billing\.\d+\./, '.events.billing.<shard>.')),
      ).toEqual([
        `${prefix.toLowerCase()}.events.billing.<shard>.com.example.billed`,
        `${prefix.toLowerCase()}.events.billing.<shard>.com.example.billed`,
      ]);
    } finally {
      await publisher.close();
      await gateway.stop();
    }
  });

  it('gives up on an unreachable gateway with FUZE_PUBLISH_FAILED', async () => {
    const publisher = createPublisher({ gatewayUrl: 'http://127.0.0.1:1', giveUpAfterMs: 300, env: {} });
    const error = await publisher.publish({ source: '/x', type: 'com.example.lost' }).catch((e) => e);
    const batch = await publisher.publishBatch([{ id: 'lost', source: '/x', type: 'com.example.lost' }]);
    await publisher.close();

    expect(isFuzeError(error, 'FUZE_PUBLISH_FAILED')).toBe(true);
    expect(error.message).toMatch(/cannot reach the gateway at http:\/\/127\.0\.0\.1:1\/v1\/events/);
    expect(batch.results).toEqual([expect.objectContaining({ id: 'lost', status: 'failed' })]);
  });
});
