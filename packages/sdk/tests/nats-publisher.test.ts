import { createPublisher, isFuzeError, type Publisher, PublishRejectedError } from '@fuze/sdk';
import { type NatsServerHandle, provisionStreams, startNatsServer } from '@fuze/test/harness';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connectTo, readEvents } from './stream-fixture.js';

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

// What every transport promises is in publisher-contract.test.ts; this is the direct path's own.
describe('createPublisher({ natsUrl }): the direct JetStream path', () => {
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
