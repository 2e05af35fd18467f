import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '@fuze/rules';
import { describe, expect, test } from 'vitest';
import {
  composeHandler,
  DeliveryAbortedError,
  NonRetryableError,
  RetryAfterError,
  retryDelay,
  retryMiddleware,
} from '../src/index.js';
import { FakeClock, testDelivery } from './pipeline-fixture.js';

const policy: RetryPolicy = {
  maxAttempts: 5,
  backoff: 'exponential',
  initialDelayMs: 100,
  maxDelayMs: 1_000,
  maxAgeMs: 3_600_000,
};

function failing(times: number, error: () => Error = () => new Error('down')) {
  let calls = 0;
  return async () => {
    calls += 1;
    if (calls <= times) throw error();
  };
}

describe('retryDelay', () => {
  test('exponential: full jitter under a doubling ceiling capped at maxDelay', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => retryDelay(policy, n, () => 0.999999))).toEqual([
      99, 199, 399, 799, 999, 999,
    ]);
    expect(retryDelay(policy, 3, () => 0)).toBe(0);
    expect(retryDelay(policy, 3, () => 0.5)).toBe(200);
  });

  test('fixed: initialDelay every time', () => {
    const fixed = { ...policy, backoff: 'fixed' as const };
    expect([1, 2, 9].map((n) => retryDelay(fixed, n, () => 0.3))).toEqual([100, 100, 100]);
  });

  test('the default policy: 10 attempts from 1 s to 5 min within 24 h', () => {
    expect(DEFAULT_RETRY_POLICY).toMatchObject({
      maxAttempts: 10,
      initialDelayMs: 1_000,
      maxDelayMs: 300_000,
    });
  });
});

describe('retryMiddleware', () => {
  test('retries in place until the handler succeeds, counting attempts on the delivery', async () => {
    const clock = new FakeClock();
    const handler = composeHandler(
      failing(2),
      retryMiddleware({ policy: () => policy, clock, random: () => 0.5 }),
    );
    const delivery = testDelivery({ acceptedAt: clock.now() });
    await handler(delivery);
    expect(delivery.attempts).toBe(3);
    expect(clock.sleeps).toEqual([50, 100]);
    expect(delivery.lastAttemptAt! - delivery.firstAttemptAt!).toBe(150);
  });

  test('gives up after maxAttempts with the last error', async () => {
    const clock = new FakeClock();
    const handler = composeHandler(failing(99), retryMiddleware({ policy: () => policy, clock }));
    const delivery = testDelivery({ acceptedAt: clock.now() });
    await expect(handler(delivery)).rejects.toThrow('down');
    expect(delivery.attempts).toBe(5);
    expect(clock.sleeps).toHaveLength(4);
  });

  test('a non-retryable error is not retried', async () => {
    const clock = new FakeClock();
    const handler = composeHandler(
      failing(1, () => new NonRetryableError('bad payload')),
      retryMiddleware({ policy: () => policy, clock }),
    );
    const delivery = testDelivery({ acceptedAt: clock.now() });
    await expect(handler(delivery)).rejects.toBeInstanceOf(NonRetryableError);
    expect(delivery.attempts).toBe(1);
  });

  test('retryAfterMs replaces the backoff', async () => {
    const clock = new FakeClock();
    const handler = composeHandler(
      failing(2, () => new RetryAfterError(7_000)),
      retryMiddleware({ policy: () => policy, clock }),
    );
    await handler(testDelivery({ acceptedAt: clock.now() }));
    expect(clock.sleeps).toEqual([7_000, 7_000]);
  });

  test('gives up when the next attempt would come after maxAge', async () => {
    const clock = new FakeClock();
    const handler = composeHandler(
      failing(99, () => new RetryAfterError(40_000)),
      retryMiddleware({ policy: () => ({ ...policy, maxAgeMs: 100_000 }), clock }),
    );
    const delivery = testDelivery({ acceptedAt: clock.now() - 10_000 });
    await expect(handler(delivery)).rejects.toBeInstanceOf(RetryAfterError);
    expect(delivery.attempts).toBe(3); // 10 s old, +40 s, +40 s = 90 s; one more wait would pass 100 s
  });

  test('the policy is read at each failure, so a rule change applies to deliveries in flight', async () => {
    const clock = new FakeClock();
    let current = policy;
    const handler = composeHandler(
      async () => {
        current = { ...policy, maxAttempts: 2 };
        throw new Error('down');
      },
      retryMiddleware({ policy: () => current, clock }),
    );
    const delivery = testDelivery({ acceptedAt: clock.now() });
    await expect(handler(delivery)).rejects.toThrow('down');
    expect(delivery.attempts).toBe(2);
  });

  test('stopping ends the wait: the delivery is abandoned, not failed', async () => {
    const stopping = new AbortController();
    const clock = new FakeClock();
    const handler = composeHandler(
      async () => {
        stopping.abort();
        throw new Error('down');
      },
      retryMiddleware({ policy: () => policy, clock }),
    );
    const delivery = testDelivery({ acceptedAt: clock.now() }, { stopping, signal: new AbortController() });
    await expect(handler(delivery)).rejects.toBeInstanceOf(DeliveryAbortedError);
  });
});
