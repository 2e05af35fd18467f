import { eventMessageId } from '@fuze/core';
import { createPublisher, isFuzeError, type Publisher, PublishRejectedError } from '@fuze/sdk';
import { type NatsServerHandle, startNatsServer } from '@fuze/test/harness';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connectTo, provisionStreams, readEvents } from './stream-fixture.js';

let nats: NatsServerHandle;
let nc: NatsConnection;
let prefix: string;
let publisher: Publisher;

beforeAll(async () => {
  nats = await startNatsServer();
  nc = await connectTo(nats.url);
});

afterAll(async () => {
  await nc?.close();
  await nats?.[Symbol.asyncDispose]();
});

beforeEach(async () => {
  prefix = await provisionStreams(nc);
  publisher = createPublisher({ natsUrl: nats.url, streamPrefix: prefix });
});

afterEach(async () => {
  await publisher.close();
});

const order = { orderId: 'o-1', total: 120.5, lines: [{ sku: 'A-1', qty: 2 }] };

describe('createPublisher({ natsUrl }): the direct JetStream path', () => {
  it('stores the event intact in <PREFIX>_EVENTS, under its bus and type', async () => {
    const event = {
      id: 'evt-1',
      source: '/shop/orders',
      type: 'com.shop.order.placed',
      subject: 'orders/o-1',
      time: '2025-01-02T03:04:05.678Z',
      datacontenttype: 'application/json',
      partitionkey: 'customer-7',
      data: order,
    };
    const result = await publisher.publish(event);

    expect(result).toEqual({ id: 'evt-1', status: 'accepted' });
    const [stored, ...rest] = await readEvents(nc, prefix);
    expect(rest).toHaveLength(0);
    expect(stored?.subject).toMatch(
      new RegExp(`^${prefix.toLowerCase()}\\.events\\.default\\.\\d+\\.com\\.shop\\.order\\.placed$`),
    );
    expect(stored?.msgId).toBe(eventMessageId('/shop/orders', 'evt-1'));
    expect(stored?.event).toEqual({ ...event, specversion: '1.0' });
  });

  it('fills id, time and specversion when missing', async () => {
    const before = Date.now();
    const result = await publisher.publish<{ n: number }>({
      source: '/tests',
      type: 'com.example.filled',
      data: { n: 1 },
    });

    expect(result.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const [stored] = await readEvents(nc, prefix);
    expect(stored?.event).toMatchObject({ id: result.id, specversion: '1.0', data: { n: 1 } });
    const time = String(stored?.event.time);
    expect(time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Date.parse(time)).toBeGreaterThanOrEqual(before - 1);
  });

  it('answers duplicate for the same source and id, and stores the event once', async () => {
    const event = { id: 'same', source: '/tests', type: 'com.example.once', data: { n: 1 } };
    const first = await publisher.publish(event);
    const second = await publisher.publish({ ...event, data: { n: 2 } });
    const otherSource = await publisher.publish({ ...event, source: '/elsewhere' });

    expect([first.status, second.status, otherSource.status]).toEqual(['accepted', 'duplicate', 'accepted']);
    const stored = await readEvents(nc, prefix);
    expect(stored.map((s) => [s.event.source, s.event.data])).toEqual([
      ['/tests', { n: 1 }],
      ['/elsewhere', { n: 1 }],
    ]);
  });

  it('publishes to the bus it was created for', async () => {
    const billing = createPublisher({ natsUrl: nats.url, streamPrefix: prefix, bus: 'billing' });
    try {
      await billing.publish({ source: '/tests', type: 'com.example.billed' });
    } finally {
      await billing.close();
    }
    const [stored] = await readEvents(nc, prefix);
    expect(stored?.subject).toMatch(
      new RegExp(`^${prefix.toLowerCase()}\\.events\\.billing\\.\\d+\\.com\\.example\\.billed$`),
    );
  });

  it('rejects an invalid envelope with its problems, before sending anything', async () => {
    const bad = { type: 'com.example.bad', source: '', BadName: 'x', data: {} };
    const error = await publisher.publish(bad).catch((err: unknown) => err);

    expect(error).toBeInstanceOf(PublishRejectedError);
    const rejected = error as PublishRejectedError;
    expect(rejected.code).toBe('FUZE_INVALID_EVENT');
    expect(rejected.statusCode).toBe(400);
    expect(rejected.problems.map((p) => p.pointer).sort()).toEqual(['BadName', 'source']);
    expect(await readEvents(nc, prefix)).toHaveLength(0);
  });

  it('rejects an unreadable delay extension, naming it', async () => {
    const error = await publisher
      .publish({ source: '/tests', type: 'com.example.later', delay: 'soon' })
      .catch((err: unknown) => err);

    expect(error).toBeInstanceOf(PublishRejectedError);
    expect((error as PublishRejectedError).problems.map((p) => p.pointer)).toEqual(['delay']);
  });

  it('rejects an event over maxEventBytes', async () => {
    const small = createPublisher({ natsUrl: nats.url, streamPrefix: prefix, maxEventBytes: 1024 });
    try {
      const error = await small
        .publish({ source: '/tests', type: 'com.example.big', data: 'x'.repeat(2048) })
        .catch((err: unknown) => err);
      expect(isFuzeError(error, 'FUZE_EVENT_TOO_LARGE')).toBe(true);
      expect(error).toBeInstanceOf(PublishRejectedError);
    } finally {
      await small.close();
    }
  });

  it('publishBatch answers per entry, in order, and stores the valid ones', async () => {
    await publisher.publish({ id: 'seen', source: '/tests', type: 'com.example.batch' });
    const events = [
      { id: 'b-0', source: '/tests', type: 'com.example.batch', data: { i: 0 } },
      { id: 'b-1', source: '/tests', type: '', data: { i: 1 } },
      { id: 'seen', source: '/tests', type: 'com.example.batch' },
      { source: '/tests', type: 'com.example.batch', data: { i: 3 } },
    ];
    const { failedCount, results } = await publisher.publishBatch(events);

    expect(failedCount).toBe(1);
    expect(results.map((r) => [r.id, r.status])).toEqual([
      ['b-0', 'accepted'],
      ['b-1', 'rejected'],
      ['seen', 'duplicate'],
      [results[3]?.id, 'accepted'],
    ]);
    const rejected = results[1];
    expect(rejected?.status === 'rejected' && rejected.error.problems[0]?.pointer).toBe('type');
    const stored = await readEvents(nc, prefix);
    expect(stored.map((s) => s.event.id)).toEqual(['seen', 'b-0', results[3]?.id]);
  });

  it('pipelines a large batch', async () => {
    const events = Array.from({ length: 1_000 }, (_, i) => ({
      source: '/tests',
      type: 'com.example.many',
      data: { i },
    }));
    const { failedCount, results } = await publisher.publishBatch(events);

    expect(failedCount).toBe(0);
    const stored = await readEvents(nc, prefix);
    expect(new Set(stored.map((s) => s.event.id))).toEqual(new Set(results.map((r) => r.id)));
  });

  it('reads FUZE_NATS_URL and FUZE_STREAM_PREFIX when no option is given', async () => {
    const fromEnv = createPublisher({ env: { FUZE_NATS_URL: nats.url, FUZE_STREAM_PREFIX: prefix } });
    try {
      expect(fromEnv.transport).toBe('nats');
      await fromEnv.publish({ source: '/tests', type: 'com.example.env' });
    } finally {
      await fromEnv.close();
    }
    expect(await readEvents(nc, prefix)).toHaveLength(1);
  });

  it('refuses to publish once closed', async () => {
    await publisher.publish({ source: '/tests', type: 'com.example.closed' });
    await publisher.close();
    const error = await publisher.publish({ source: '/tests', type: 'com.example.closed' }).catch((e) => e);
    expect(isFuzeError(error, 'FUZE_PUBLISH_FAILED')).toBe(true);
  });

  it('reports an unreachable NATS as FUZE_NATS_UNAVAILABLE', async () => {
    const nowhere = createPublisher({ natsUrl: 'nats://127.0.0.1:1' });
    const error = await nowhere.publish({ source: '/tests', type: 'com.example.lost' }).catch((e) => e);
    await nowhere.close();
    expect(isFuzeError(error, 'FUZE_NATS_UNAVAILABLE')).toBe(true);
  });

  it('checks its options, all problems at once', () => {
    expect(() =>
      createPublisher({ natsUrl: nats.url, gatewayUrl: 'http://x', bus: 'Bad Bus', giveUpAfterMs: -1 }),
    ).toThrow(/bus "Bad Bus" is invalid.*giveUpAfterMs=-1.*not both/);
    expect(() => createPublisher({ streamPrefix: 'lower' })).toThrow(/streamPrefix "lower"/);
  });
});
