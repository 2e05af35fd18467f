import type { DeliveryMiddleware } from './delivery.js';
import type { SharedRateLimit } from './shared-rate-limit.js';

/**
 * Starts each attempt only with a token of the target's rate limit. It runs last before the
 * attempt, so the rate the target sees is the rate tokens are taken.
 */
export function rateLimitMiddleware(limit: SharedRateLimit | undefined): DeliveryMiddleware {
  if (!limit) return (next) => next;
  return (next) => async (delivery) => {
    await limit.take(delivery.stopping);
    await next(delivery);
  };
}
