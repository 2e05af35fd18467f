import type { DeadLetterRecord } from '@fuze/core';
import { deadLetterId } from '@fuze/core';
import { describe, expect, test } from 'vitest';
import {
  composeHandler,
  DeliveryAbortedError,
  DeliveryError,
  deadLetterMiddleware,
  retryMiddleware,
} from '../src/index.js';
import { FakeClock, silent, testDelivery } from './pipeline-fixture.js';

describe('deadLetterMiddleware', () => {
  test('turns a final failure into a record, stores it, then resolves so the worker acks', async () => {
    const clock = new FakeClock();
    const stored: DeadLetterRecord[] = [];
    const handler = composeHandler(
      async () => {
        throw new DeliveryError('target answered HTTP 503', true, {
          httpStatus: 503,
          responseExcerpt: 'busy',
        });
      },
      deadLetterMiddleware({ sink: async (r) => void stored.push(r), logger: silent, clock }),
      retryMiddleware({
        policy: () => ({
          maxAttempts: 3,
          backoff: 'fixed',
          initialDelayMs: 1_000,
          maxDelayMs: 1_000,
          maxAgeMs: 86_400_000,
        }),
        clock,
      }),
    );
    const delivery = testDelivery({ acceptedAt: clock.now() });
    await handler(delivery);
    expect(stored).toHaveLength(1);
    const record = stored[0]!;
    expect(record).toMatchObject({
      id: deadLetterId({ source: '/s', id: 'e-1' }, 'r', 'billing'),
      bus: 'default',
      rule: 'r',
      target: 'billing',
      partitionKey: 'k',
      eventSeq: 42,
      contentType: 'application/json',
      traceparent: '00-aa-bb-01',
      failure: {
        stage: 'deliver',
        attempts: 3,
        errorClass: 'DeliveryError',
        message: 'target answered HTTP 503',
        retryable: true,
        httpStatus: 503,
        responseExcerpt: 'busy',
        firstAttemptAt: new Date(1_700_000_000_000).toISOString(),
        lastAttemptAt: new Date(1_700_000_002_000).toISOString(),
      },
    });
    expect(Buffer.from(record.body, 'base64').toString()).toBe('{"a":1}');
  });

  test('keeps trying to store the record (e.g. NATS down) before it lets the delivery be acked', async () => {
    const clock = new FakeClock();
    let tries = 0;
    const handler = composeHandler(
      async () => {
        throw new Error('nope');
      },
      deadLetterMiddleware({
        sink: async () => {
          tries += 1;
          if (tries < 3) throw new Error('JetStream unavailable');
        },
        logger: silent,
        clock,
        storeRetryDelayMs: 10,
      }),
    );
    await handler(testDelivery());
    expect(tries).toBe(3);
    expect(clock.sleeps).toEqual([10, 10]);
  });

  test('an abandoned delivery is not dead-lettered', async () => {
    const stored: DeadLetterRecord[] = [];
    const handler = composeHandler(
      async () => {
        throw new DeliveryAbortedError();
      },
      deadLetterMiddleware({ sink: async (r) => void stored.push(r), logger: silent }),
    );
    await expect(handler(testDelivery())).rejects.toBeInstanceOf(DeliveryAbortedError);
    expect(stored).toEqual([]);
  });

  test('a replayed delivery keeps its replay marks and gets its own record id', async () => {
    const stored: DeadLetterRecord[] = [];
    const handler = composeHandler(
      async () => {
        throw new Error('still down');
      },
      deadLetterMiddleware({ sink: async (r) => void stored.push(r), logger: silent }),
    );
    await handler(testDelivery({ replay: { jobId: 'job-1', deadLetterId: 'dl-1' } }));
    expect(stored[0]!.replay).toEqual({ jobId: 'job-1', deadLetterId: 'dl-1' });
    expect(stored[0]!.id).toBe(deadLetterId({ source: '/s', id: 'e-1' }, 'r', 'billing', 'job-1'));
  });
});
