import { expect, test } from 'vitest';
import { AckedByPartition } from '../src/acked-by-partition.js';

test('a partition taken back within a minute starts with what this worker acked on it; after that, and for other partitions, afresh', () => {
  let now = 0;
  const byPartition = new AckedByPartition(120_000, () => now);
  byPartition.acquired(3).add(41, 'delivery-41');
  byPartition.acquired(4).add(42, 'delivery-42');
  byPartition.released(3);
  byPartition.released(4);

  now += 59_000;
  expect(byPartition.acquired(3).has(41, undefined)).toBe(true);
  expect(byPartition.acquired(5).has(41, undefined)).toBe(false);

  now += 2_000; // partition 4 was given up 61 s ago
  expect(byPartition.acquired(4).has(42, undefined)).toBe(false);
  // Held again since: partition 3's set is not forgotten while it is held.
  now += 120_000;
  expect(byPartition.acquired(3).has(41, undefined)).toBe(true);
});

test('a delivery is known by its sequence, or by its id within the dedupe window', () => {
  let now = 0;
  const acked = new AckedByPartition(120_000, () => now).acquired(0);
  acked.add(7, 'delivery-a');
  acked.add(8, undefined);
  expect(acked.has(7, undefined)).toBe(true);
  expect(acked.has(99, 'delivery-a')).toBe(true);
  expect(acked.has(8, undefined)).toBe(true);
  expect(acked.has(99, 'delivery-b')).toBe(false);
  expect(acked.has(99, '')).toBe(false);
  expect(acked.has(99, undefined)).toBe(false);
  // Past the window the server would have stored it anew too: a new publish, delivered.
  now += 120_000;
  expect(acked.has(99, 'delivery-a')).toBe(false);
  expect(acked.has(7, undefined)).toBe(true);
  // Without a known window, ids are not matched.
  const noWindow = new AckedByPartition(0, () => now).acquired(0);
  noWindow.add(1, 'delivery-c');
  expect(noWindow.has(2, 'delivery-c')).toBe(false);
});
