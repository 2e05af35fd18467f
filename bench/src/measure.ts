/** Completed operations over a timed window. */
export interface Rate {
  count: number;
  seconds: number;
  perSecond: number;
}

export interface Timing {
  warmupMs: number;
  durationMs: number;
  runs: number;
}

/**
 * Runs `concurrency` loops of `op` (each returns how many events it completed) until the
 * deadline, then waits for the operations in flight: a closed loop, so the rate is what the
 * system sustains, not what it queues.
 */
export async function closedLoop(options: {
  concurrency: number;
  durationMs: number;
  op: () => Promise<number>;
}): Promise<Rate> {
  let count = 0;
  const start = performance.now();
  const deadline = start + options.durationMs;
  const loop = async () => {
    while (performance.now() < deadline) {
      // Not `count += await op()`: that reads `count` before the await and loses the other loops' adds.
      const done = await options.op();
      count += done;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, loop));
  const seconds = (performance.now() - start) / 1000;
  return { count, seconds, perSecond: count / seconds };
}

/** A warm-up, then `runs` timed runs; the median run, with every run's rate. */
export async function medianOf(
  timing: Timing,
  once: (durationMs: number) => Promise<Rate>,
  between?: () => Promise<void>,
): Promise<Rate & { all: number[] }> {
  await once(timing.warmupMs);
  const rates: Rate[] = [];
  for (let i = 0; i < timing.runs; i++) {
    await between?.();
    rates.push(await once(timing.durationMs));
  }
  const sorted = [...rates].sort((a, b) => a.perSecond - b.perSecond);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  return { ...median, all: rates.map((r) => Math.round(r.perSecond)) };
}
