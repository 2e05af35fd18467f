import { DeliveryAbortedError } from './errors.js';

/** Time as the retry logic sees it; tests inject a fake one instead of waiting. */
export interface Clock {
  now(): number;
  /** Resolves after `ms`; rejects with DeliveryAbortedError as soon as `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms, signal) {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(new DeliveryAbortedError());
        return;
      }
      const onAbort = () => {
        clearTimeout(timer);
        reject(new DeliveryAbortedError());
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  },
};
