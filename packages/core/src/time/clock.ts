/** Time as Fuze's waits see it (retry backoff, replay rate limits); tests inject a fake one. */
export interface Clock {
  now(): number;
  /**
   * Resolves `true` once `ms` have passed, never earlier by `Date.now()` (a retry promised "not
   * before" its Retry-After must not come early); resolves `false` as soon as `signal` aborts.
   * Whether an abort is an error is the caller's to say.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<boolean>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms, signal) {
    return new Promise<boolean>((resolve) => {
      if (signal?.aborted) {
        resolve(false);
        return;
      }
      // Node timers may fire up to a millisecond early by Date.now(): re-arm until it is time.
      const dueAt = Date.now() + ms;
      let timer: NodeJS.Timeout;
      const onAbort = () => {
        clearTimeout(timer);
        resolve(false);
      };
      const arm = (delay: number) => {
        timer = setTimeout(() => {
          const left = dueAt - Date.now();
          if (left > 0) return arm(left);
          signal?.removeEventListener('abort', onAbort);
          resolve(true);
        }, delay);
      };
      arm(ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  },
};
