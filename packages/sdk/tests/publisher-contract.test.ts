import { eventMessageId } from '@fuze/core';
import { createPublisher, isFuzeError, type Publisher, PublishRejectedError } from '@fuze/sdk';
import { type NatsServerHandle, provisionStreams, startNatsServer } from '@fuze/test/harness';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningGateway, startGateway } from './gateway-fixture.js';
import { connectTo, readEvents } from './stream-fixture.js';

/**
 * The publisher contract: what every transport of `createPublisher` promises, run against each
 * (watermill's universal pub/sub suite is the model). A transport's own options and failures
 * (tokens, environment variables, an unreachable peer) are tested in its own file.
 */
interface Transport {
  name: string;
  /** Starts what the transport needs for streams under `prefix`; `open` makes a publisher. */
  start(prefix: string): Promise<{ open(bus?: string): Publisher; stop(): Promise<void> }>;
}

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

const transports: Transport[] = [
  {
    name: 'createPublisher({ natsUrl }): direct to JetStream',
    async start(prefix) {
      return {
        open: (bus) =>
          createPublisher({ natsUrl: nats.url, streamPrefix: prefix, env: {}, ...(bus ? { bus } : {}) }),
        stop: async () => {},
      };
    },
  },
  {
    name: 'createPublisher({ gatewayUrl }): through the gateway',
    async start(prefix) {
      const gateway: RunningGateway = await startGateway({ nc, prefix });
      return {
        open: (bus) => createPublisher({ gatewayUrl: gateway.url, env: {}, ...(bus ? { bus } : {}) }),
        stop: () => gateway.stop(),
      };
    },
  },
];

describe.each(transports)('$name', (transport) => {
  let prefix: string;
  let running: Awaited<ReturnType<Transport['start']>>;
  let publisher: Publisher;
  let sources = 0;
  /** A source of its own for each test: the streams are shared by the transport's tests. */
  const newSource = () => `/contract/${++sources}`;
  const storedFrom = async (source: string) =>
    (await readEvents(nc, prefix)).filter((s) => s.event.source === source);

  beforeAll(async () => {
    prefix = await provisionStreams(nc);
    running = await transport.start(prefix);
    publisher = running.open();
  });

  afterAll(async () => {
    await publisher?.close();
    await running?.stop();
  });

  it('stores the event intact in <PREFIX>_EVENTS, under its bus and type, deduplicated by source and id', async () => {
    const source = newSource();
    const event = {
      id: 'evt-1',
      source,
      type: 'com.shop.order.placed',
      subject: 'orders/o-1',
      time: '2025-01-02T03:04:05.678Z',
      datacontenttype: 'application/json',
      partitionkey: 'customer-7',
      data: { orderId: 'o-1', total: 120.5, lines: [{ sku: 'A-1', qty: 2 }] },
    };
    expect(await publisher.publish(event)).toEqual({ id: 'evt-1', status: 'accepted' });

    const [stored, ...rest] = await storedFrom(source);
    expect(rest).toHaveLength(0);
    expect(stored?.subject).toMatch(
      new RegExp(`^${prefix.toLowerCase()}\\.events\\.default\\.\\d+\\.com\\.shop\\.order\\.placed$`),
    );
    expect(stored?.msgId).toBe(eventMessageId(source, 'evt-1'));
    expect(stored?.event).toEqual({ ...event, specversion: '1.0' });
  });

  it('fills id, time and specversion when missing', async () => {
    const source = newSource();
    const before = Date.now();
    const result = await publisher.publish<{ n: number }>({
      source,
      type: 'com.example.filled',
      data: { n: 1 },
    });

    expect(result.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const [stored] = await storedFrom(source);
    expect(stored?.event).toMatchObject({ id: result.id, specversion: '1.0', data: { n: 1 } });
    const time = String(stored?.event.time);
    expect(time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Date.parse(time)).toBeGreaterThanOrEqual(before - 1);
  });

  it('answers duplicate for the same source and id, and stores the event once', async () => {
    const source = newSource();
    const event = { id: 'same', source, type: 'com.example.once', data: { n: 1 } };
    const first = await publisher.publish(event);
    const second = await publisher.publish({ ...event, data: { n: 2 } });
    const other = await publisher.publish({ ...event, id: 'other' });

    expect([first.status, second.status, other.status]).toEqual(['accepted', 'duplicate', 'accepted']);
    expect((await storedFrom(source)).map((s) => [s.event.id, s.event.data])).toEqual([
      ['same', { n: 1 }],
      ['other', { n: 1 }],
    ]);
  });

  it('publishes to the bus it was created for', async () => {
    const source = newSource();
    const billing = running.open('billing');
    try {
      await billing.publish({ source, type: 'com.example.billed' });
      await billing.publishBatch([{ source, type: 'com.example.billed' }]);
    } finally {
      await billing.close();
    }
    const subjects = (await storedFrom(source)).map((s) => s.subject.replace(/\.\d+\./, '.<shard>.'));
    expect(subjects).toEqual(
      Array(2).fill(`${prefix.toLowerCase()}.events.billing.<shard>.com.example.billed`),
    );
  });

  it('refuses an invalid envelope with PublishRejectedError naming each attribute, and stores nothing', async () => {
    const source = newSource();
    const error = await publisher
      .publish({ type: 'com.example.bad', source, id: '', BadName: 'x', data: {} })
      .catch((err: unknown) => err);

    expect(error).toBeInstanceOf(PublishRejectedError);
    const rejected = error as PublishRejectedError;
    expect(rejected.code).toBe('FUZE_INVALID_EVENT');
    expect(rejected.statusCode).toBe(400);
    expect(rejected.problems.map((p) => p.pointer).sort()).toEqual(['BadName', 'id']);
    expect(await storedFrom(source)).toHaveLength(0);
  });

  it('refuses an unreadable delay extension, naming it', async () => {
    const error = await publisher
      .publish({ source: newSource(), type: 'com.example.later', delay: 'soon' })
      .catch((err: unknown) => err);

    expect(error).toBeInstanceOf(PublishRejectedError);
    expect((error as PublishRejectedError).problems.map((p) => p.pointer)).toEqual(['delay']);
  });

  it('refuses an event over the size limit (256 KiB by default) with FUZE_EVENT_TOO_LARGE', async () => {
    const source = newSource();
    const error = await publisher
      .publish({ source, type: 'com.example.big', data: 'x'.repeat(300 * 1024) })
      .catch((err: unknown) => err);

    expect(isFuzeError(error, 'FUZE_EVENT_TOO_LARGE')).toBe(true);
    expect(error).toBeInstanceOf(PublishRejectedError);
    expect(await storedFrom(source)).toHaveLength(0);
  });

  it('publishBatch answers per entry, in order, and stores the valid ones in entry order', async () => {
    const source = newSource();
    await publisher.publish({ id: 'seen', source, type: 'com.example.batch' });
    const events = [
      { id: 'b-0', source, type: 'com.example.batch', data: { i: 0 } },
      { id: 'b-1', source, type: '', data: { i: 1 } },
      { id: 'seen', source, type: 'com.example.batch' },
      { source, type: 'com.example.batch', data: { i: 3 } },
      ...Array.from({ length: 20 }, (_, i) => ({ id: `c-${i}`, source, type: 'com.example.batch' })),
    ];
    const { failedCount, results } = await publisher.publishBatch(events);

    expect(failedCount).toBe(1);
    expect(results.slice(0, 4).map((r) => [r.id, r.status])).toEqual([
      ['b-0', 'accepted'],
      ['b-1', 'rejected'],
      ['seen', 'duplicate'],
      [results[3]?.id, 'accepted'],
    ]);
    const rejected = results[1];
    expect(rejected?.status === 'rejected' && rejected.error.problems[0]?.pointer).toBe('type');
    expect((await storedFrom(source)).map((s) => s.event.id)).toEqual([
      'seen',
      'b-0',
      results[3]?.id,
      ...Array.from({ length: 20 }, (_, i) => `c-${i}`),
    ]);
  });

  it('refuses to publish once closed', async () => {
    const closing = running.open();
    await closing.publish({ source: newSource(), type: 'com.example.closed' });
    await closing.close();
    const error = await closing.publish({ source: newSource(), type: 'com.example.closed' }).catch((e) => e);
    expect(isFuzeError(error, 'FUZE_PUBLISH_FAILED')).toBe(true);
  });
});
