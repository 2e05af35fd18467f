import { type Clock, systemClock } from '@fuze/core';
import type { CircuitBreaker } from './circuit-breaker.js';
import type { Delivery, DeliveryMiddleware } from './delivery.js';
import { describeFailure, isDeliveryAborted } from './errors.js';

/**
 * Holds each attempt until the target's circuit breaker lets it through (waiting is not an
 * attempt: the attempt's times are set when it starts), and tells the breaker how it went: a
 * retryable failure counts, anything else (a success, or an answer that is not retryable, which
 * shows the target is up) counts as success. A failed probe does not count as the event's attempt.
 * Without a breaker the attempt passes untouched.
 */
export function circuitBreakerMiddleware(
  breakerOf: (delivery: Delivery) => CircuitBreaker | undefined,
  clock: Clock = systemClock,
): DeliveryMiddleware {
  return (next) => async (delivery) => {
    const breaker = breakerOf(delivery);
    if (!breaker) return next(delivery);
    const waitedFrom = clock.now();
    const admission = await breaker.admit(delivery.stopping);
    if (clock.now() - waitedFrom > 1) {
      delivery.lastAttemptAt = clock.now();
      if (delivery.attempts === 1) delivery.firstAttemptAt = delivery.lastAttemptAt;
    }
    const probe = admission === 'probe';
    try {
      await next(delivery);
    } catch (err) {
      // A probe cut short by a stop is left to time out: another worker takes it over.
      if (!isDeliveryAborted(err)) {
        if (describeFailure(err).retryable) {
          await breaker.failed(probe);
          // A probe tests the target for every waiting delivery: its failure is not this event's
          // attempt, or the event chosen to probe would be dead-lettered by the outage alone.
          if (probe) delivery.attempts -= 1;
        } else await breaker.succeeded(probe);
      }
      throw err;
    }
    await breaker.succeeded(probe);
  };
}
