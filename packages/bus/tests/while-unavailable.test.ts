import { createLogger } from '@fuze/core';
import { type NatsServerHandle, startNatsServer } from '@fuze/test/harness';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { isJetStreamUnavailable, whileUnavailable } from '../src/index.js';

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

describe('whileUnavailable', () => {
  test("nats.js's error for a subject no stream listens on counts as unavailable; a refusal does not", async () => {
    const noStream = await jetstream(nc)
      .publish('nobody.listens', 'x', { timeout: 1_000 })
      .catch((e: unknown) => e);
    expect(isJetStreamUnavailable(noStream)).toBe(true);
    expect(isJetStreamUnavailable(new Error('stream name already in use'))).toBe(false);
  });

  test('retries until the action succeeds, and rethrows what retrying cannot help', async () => {
    let calls = 0;
    const result = await whileUnavailable(
      'test',
      async () => {
        calls += 1;
        if (calls < 3) throw new Error('no responders available for request');
        return 'done';
      },
      logger,
    );
    expect(result).toBe('done');
    expect(calls).toBe(3);
    await expect(
      whileUnavailable('test', () => Promise.reject(new Error('bad config')), logger),
    ).rejects.toThrow('bad config');
  });
});
