import { type Clock, systemClock } from '@fuze/core';
import type { RetryPolicy } from '@fuze/rules';
import { retryDelay } from './backoff.js';
import type { Delivery, DeliveryMiddleware } from './delivery.js';
import { type DeliveryMetrics, uncountedDeliveries } from './delivery-metrics.js';
import { DeliveryAbortedError, describeFailure, isDeliveryAborted } from './errors.js';

export interface RetryOptions {
  /** The target's policy, read at each failure so a rule change applies to deliveries in flight. */
  policy(delivery: Delivery): RetryPolicy;
  clock?: Clock;
  random?: () => number;
  /** Counts each retry; default: not counted. */
  metrics?: DeliveryMetrics;
}

/**
 * Retries the wrapped handler in place, per the target's policy: the delivery stays held (and its
 * key waits behind it) until it succeeds or the policy gives up, which rethrows the last error
 * for the dead-letter middleware. The only retry layer: JetStream redelivery is not used for it.
 *
 * Gives up when the error is not retryable, when `maxAttempts` attempts were made, or when the
 * next attempt would start after the event is `maxAge` old (`acceptedAt` + maxAge). A
 * `retryAfterMs` on the error (Retry-After, RetryAfterError) replaces the backoff delay.
 */
export function retryMiddleware(options: RetryOptions): DeliveryMiddleware {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const metrics = options.metrics ?? uncountedDeliveries;
  return (next) => async (delivery) => {
    for (;;) {
      if (delivery.stopping.aborted) throw new DeliveryAbortedError();
      const startedAt = clock.now();
      delivery.attempts += 1;
      delivery.firstAttemptAt ??= startedAt;
      delivery.lastAttemptAt = startedAt;
      if (delivery.attempts > 1) metrics.retried(delivery.envelope.target || delivery.target);
      try {
        await next(delivery);
        return;
      } catch (err) {
        if (isDeliveryAborted(err)) throw err;
        if (delivery.signal.aborted || delivery.stopping.aborted) throw new DeliveryAbortedError();
        const failure = describeFailure(err);
        const policy = options.policy(delivery);
        if (!failure.retryable || delivery.attempts >= policy.maxAttempts) throw err;
        const delay = failure.retryAfterMs ?? retryDelay(policy, delivery.attempts, random);
        const acceptedAt = delivery.envelope.acceptedAt;
        if (acceptedAt > 0 && clock.now() + delay > acceptedAt + policy.maxAgeMs) throw err;
        if (!(await clock.sleep(delay, delivery.stopping))) throw new DeliveryAbortedError();
      }
    }
  };
}
