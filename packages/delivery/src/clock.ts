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
      // Node timers may fire up to a millisecond early by Date.now(); a retry promised "not
      // before" its time (Retry-After) re-arms until the wall clock has really reached it.
      const dueAt = Date.now() + ms;
      let timer: NodeJS.Timeout;
      const onAbort = () => {
        clearTimeout(timer);
        reject(new DeliveryAbortedError());
      };
      const arm = (delay: number) => {
        timer = setTimeout(() => {
          const left = dueAt - Date.now();
          if (left > 0) return arm(left);
          signal?.removeEventListener('abort', onAbort);
          resolve();
        }, delay);
      };
      arm(ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  },
};
