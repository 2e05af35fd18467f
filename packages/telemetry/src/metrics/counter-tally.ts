import type { Counter } from 'prom-client';

/** One fixed label set of a counter, counted on the hot path. */
export interface CounterTally {
  inc(): void;
}

interface PendingTally<T extends string> {
  labels: Partial<Record<T, string | number>>;
  pending: number;
}

// One tally per counter and label set, however many callers ask for it.
const talliesByCounter = new WeakMap<Counter, Map<string, PendingTally<string>>>();

/**
 * A counter's child for one label set whose `inc()` only adds to a number; the sum reaches the
 * counter when it is read (a scrape, `counter.get()`), through `flushCounterTallies` in the
 * counter's `collect`. prom-client's own `labels(...).inc()` hashes and validates the label object
 * on every call, which the gateway paid once per event.
 *
 * The counter must call `flushCounterTallies(this)` from its `collect` option, or the tallies are
 * never seen: `counterTally` refuses a counter without one.
 */
export function counterTally<T extends string>(
  counter: Counter<T>,
  labels: Partial<Record<T, string | number>>,
): CounterTally {
  if (typeof (counter as unknown as { collect?: unknown }).collect !== 'function') {
    throw new TypeError('counterTally needs a counter whose collect() calls flushCounterTallies(this)');
  }
  let tallies = talliesByCounter.get(counter as unknown as Counter);
  if (!tallies) {
    tallies = new Map();
    talliesByCounter.set(counter as unknown as Counter, tallies);
  }
  const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
  let tally = tallies.get(key) as PendingTally<T> | undefined;
  if (!tally) {
    tally = { labels, pending: 0 };
    tallies.set(key, tally as PendingTally<string>);
  }
  const counted = tally;
  return {
    inc() {
      counted.pending++;
    },
  };
}

/** Moves every tally's pending count into `counter`: call it from the counter's `collect`. */
export function flushCounterTallies<T extends string>(counter: Counter<T>): void {
  for (const tally of talliesByCounter.get(counter as unknown as Counter)?.values() ?? []) {
    if (tally.pending === 0) continue;
    const count = tally.pending;
    tally.pending = 0;
    counter.inc(tally.labels as Partial<Record<T, string | number>>, count);
  }
}
