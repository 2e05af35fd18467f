import type { DeliveryMiddleware } from './delivery.js';
import { DeliveryAbortedError } from './errors.js';

/**
 * At most `limit` attempts run at once (per target and process): keys that wait for a retry hold
 * no slot. Waiters are served first come, first served (a freed slot passes straight to the next
 * waiter); a delivery whose worker is stopping leaves the queue.
 */
export function concurrencyLimit(limit: number): DeliveryMiddleware {
  let running = 0;
  const waiting: Array<() => void> = [];
  const release = () => {
    const nextInLine = waiting.shift();
    if (nextInLine) nextInLine();
    else running -= 1;
  };
  const acquire = (stopping: AbortSignal): Promise<void> => {
    if (running < limit) {
      running += 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      if (stopping.aborted) {
        reject(new DeliveryAbortedError());
        return;
      }
      const onStop = () => {
        const index = waiting.indexOf(grant);
        if (index >= 0) waiting.splice(index, 1);
        reject(new DeliveryAbortedError());
      };
      const grant = () => {
        stopping.removeEventListener('abort', onStop);
        resolve();
      };
      stopping.addEventListener('abort', onStop, { once: true });
      waiting.push(grant);
    });
  };
  return (next) => async (delivery) => {
    await acquire(delivery.stopping);
    try {
      await next(delivery);
    } finally {
      release();
    }
  };
}
