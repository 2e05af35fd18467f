import { useEffect, useRef, useState } from 'preact/hooks';

export interface Polled<T> {
  value: T | undefined;
  error: Error | undefined;
  /** Loads again now (after an action changed what is shown). */
  refresh(): void;
}

/**
 * Calls `load` now and every `everyMs` while the view is shown; a slow answer is not overtaken by
 * the next call (one call at a time). `deps` restart it (a changed filter); `until` ends it.
 */
export function usePoll<T>(
  load: (signal: AbortSignal) => Promise<T>,
  everyMs: number,
  deps: unknown[],
  /** Stop polling once this holds (a finished job). */
  until?: (value: T) => boolean,
): Polled<T> {
  const [value, setValue] = useState<T>();
  const [error, setError] = useState<Error>();
  const [round, setRound] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    const stop = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        const next = await loadRef.current(stop.signal);
        if (stop.signal.aborted) return;
        setValue(next);
        setError(undefined);
        if (until?.(next)) return;
      } catch (err) {
        if (stop.signal.aborted) return;
        setError(err as Error);
      }
      if (everyMs > 0) timer = setTimeout(tick, everyMs);
    };
    void tick();
    return () => {
      stop.abort();
      clearTimeout(timer);
    };
  }, [...deps, round, everyMs]);
  return { value, error, refresh: () => setRound((r) => r + 1) };
}
