import { sumOf } from '@fuze/bus';
import { latencyBucketsMs, type TargetWorkerStats } from '@fuze/delivery';

/** What the workers of one target report now, summed: the `live` member of GET /v1/targets. */
export const liveProperties = {
  workers: { type: 'integer', description: 'dispatcher processes or SDK consumers delivering it' },
  attemptsPerSecond: { type: 'number' },
  deliveredPerSecond: { type: 'number' },
  retriesPerSecond: { type: 'number', description: 'attempts after a failed one' },
  deadLettersPerSecond: { type: 'number' },
  latencyMs: {
    type: ['object', 'null'],
    description:
      'delivery latency, from the event’s acceptance to the target’s answer, over the workers’ last reports (bucket bounds: 5 ms … 5 min); null without deliveries',
    properties: { p50: { type: 'number' }, p99: { type: 'number' } },
  },
  inFlight: { type: 'integer' },
} as const;

/** Sums the workers' reports. */
export function liveView(workers: readonly TargetWorkerStats[]) {
  const sum = (read: (w: TargetWorkerStats) => number | undefined) => sumOf(workers, read);
  const buckets = new Array<number>(latencyBucketsMs.length + 1).fill(0);
  for (const w of workers) {
    for (const [i, count] of (w.latencyBuckets ?? []).entries()) buckets[i]! += count;
  }
  return {
    workers: workers.length,
    attemptsPerSecond: sum((w) => w.attemptsPerSecond),
    deliveredPerSecond: sum((w) => w.deliveredPerSecond),
    retriesPerSecond: sum((w) => w.retriesPerSecond),
    deadLettersPerSecond: sum((w) => w.deadLettersPerSecond),
    latencyMs: latencyQuantiles(buckets),
    inFlight: sum((w) => w.inFlight),
  };
}

/**
 * p50 and p99 from bucket counts, interpolated inside the bucket as Prometheus's
 * histogram_quantile does; the open last bucket answers its lower bound.
 */
export function latencyQuantiles(buckets: readonly number[]): { p50: number; p99: number } | null {
  const total = buckets.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const quantile = (q: number) => {
    const rank = q * total;
    let below = 0;
    for (let i = 0; i < buckets.length; i++) {
      const count = buckets[i]!;
      if (below + count >= rank && count > 0) {
        const lower = i === 0 ? 0 : latencyBucketsMs[i - 1]!;
        const upper = latencyBucketsMs[i];
        if (upper === undefined) return lower;
        return Math.round(lower + ((upper - lower) * (rank - below)) / count);
      }
      below += count;
    }
    return latencyBucketsMs.at(-1)!;
  };
  return { p50: quantile(0.5), p99: quantile(0.99) };
}
