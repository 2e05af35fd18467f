import { latencyBucketsMs, type TargetWorkerStats } from '@fuze/delivery';
import { expect, test } from 'vitest';
import { latencyQuantiles, liveView } from '../src/targets/target-live-view.js';

const bucketsWith = (counts: Record<number, number>) =>
  Array.from({ length: latencyBucketsMs.length + 1 }, (_, i) => counts[i] ?? 0);

test('quantiles interpolate within the bucket, as histogram_quantile does', () => {
  // 100 deliveries: 50 in (0, 5] ms, 49 in (5, 10], 1 in (250, 500].
  const q = latencyQuantiles(bucketsWith({ 0: 50, 1: 49, 6: 1 }));
  expect(q).toEqual({ p50: 5, p99: 10 });
  // All 10 in (100, 250]: the median is half-way.
  expect(latencyQuantiles(bucketsWith({ 5: 10 }))).toEqual({ p50: 175, p99: 249 });
  // Slower than the last bound: its lower bound, the most that can be said.
  expect(latencyQuantiles(bucketsWith({ [latencyBucketsMs.length]: 3 }))?.p99).toBe(300_000);
  expect(latencyQuantiles(bucketsWith({}))).toBeNull();
});

test('the live view sums the workers, old reports without the newer fields included', () => {
  const worker = (over: Partial<TargetWorkerStats>): TargetWorkerStats => ({
    member: 'm',
    at: 0,
    attemptsPerSecond: 1,
    inFlight: 1,
    partitions: [],
    ...over,
  });
  const view = liveView([
    worker({ deliveredPerSecond: 2.5, retriesPerSecond: 1, latencyBuckets: bucketsWith({ 0: 1 }) }),
    worker({ deliveredPerSecond: 1.5, deadLettersPerSecond: 0.5, latencyBuckets: bucketsWith({ 0: 1 }) }),
    worker({}),
  ]);
  expect(view).toEqual({
    workers: 3,
    attemptsPerSecond: 3,
    deliveredPerSecond: 4,
    retriesPerSecond: 1,
    deadLettersPerSecond: 0.5,
    latencyMs: { p50: 3, p99: 5 },
    inFlight: 3,
  });
});
