import type { DeliveryMiddleware } from './delivery.js';
import type { SharedConcurrency } from './shared-concurrency.js';

/** Holds each attempt until one of the target's `maxConcurrency` slots is free, and frees it after. */
export function sharedConcurrencyMiddleware(concurrency: SharedConcurrency | undefined): DeliveryMiddleware {
  if (!concurrency) return (next) => next;
  return (next) => async (delivery) => {
    const slot = await concurrency.acquire(delivery.stopping);
    if (!slot) return next(delivery);
    try {
      await next(delivery);
    } finally {
      await slot.release();
    }
  };
}
