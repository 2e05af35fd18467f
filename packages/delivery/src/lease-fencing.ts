import type { DeliveryMiddleware } from './delivery.js';
import { DeliveryAbortedError } from './errors.js';

/**
 * The last gate before an attempt: an owner that cannot confirm its partition's lease starts no
 * attempt (checked after any backoff or concurrency wait, right before the target is called), so
 * a worker that was paused or lost its lease never sends an older event after the next owner
 * sent a newer one. The delivery is left unacked for that owner.
 */
export function leaseFencing(): DeliveryMiddleware {
  return (next) => (delivery) => {
    if (!delivery.fence.mayStart())
      return Promise.reject(
        new DeliveryAbortedError(
          "attempt not started: this worker can no longer confirm the partition's lease; its next owner delivers it",
        ),
      );
    return next(delivery);
  };
}
